import EdgeFuzzing
#if canImport(Glibc)
import Glibc
#endif

// One binary for every harness. Built by scripts/fuzz.sh with -sanitize=fuzzer (and
// -DEDGETOP_FUZZ), it is a libFuzzer binary whose harness is chosen by EDGETOP_FUZZ_TARGET;
// built normally, it runs files through a harness: `edgetop-fuzz TARGET FILE…` (how a crash
// input is replayed without the fuzzer runtime).

nonisolated(unsafe) var selected: FuzzTarget = .exposition

func complain(_ text: String) { _ = text.withCString { write(2, $0, strlen($0)) } }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let broken = selected.run(input) {
        complain("edgetop-fuzz \(selected.rawValue): invariant broken: \(broken)\n")
        abort()
    }
    return 0
}

func target(named name: String?) -> FuzzTarget {
    guard let name, let t = FuzzTarget(rawValue: name) else {
        complain("edgetop-fuzz: choose a target: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
        exit(2)
    }
    return t
}

#if EDGETOP_FUZZ
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

// SwiftPM links an executable's entry point as `<product>_main`; libFuzzer's driver runs here.
@_cdecl("edgetop_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    selected = target(named: getenv("EDGETOP_FUZZ_TARGET").map { String(cString: $0) })
    var c = argc, v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzzOne)
}
#else
@main
struct Standalone {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        let t = target(named: args.first)
        var failed = 0
        for path in args.dropFirst() {
            guard let f = fopen(path, "rb") else { complain("edgetop-fuzz: cannot read \(path)\n"); exit(2) }
            var bytes: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = fread(&buf, 1, buf.count, f)
                if n <= 0 { break }
                bytes += buf[0..<n]
            }
            fclose(f)
            if let broken = t.run(bytes) { print("\(path): \(broken)"); failed += 1 } else { print("\(path): ok") }
        }
        exit(failed == 0 ? 0 : 1)
    }
}
#endif
