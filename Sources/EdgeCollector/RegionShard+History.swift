import EdgeCore

/// History steps: when the shard's time passes a whole second, the step that ended is closed —
/// each node's figures for it are written to the node's 1 s ring and merged up into its site,
/// its region and the fleet; at each whole minute the minute's histograms (merged from its
/// steps, never from their p99s) fill the 1 min rings. All on the shard's queue.
extension RegionShard {
    /// Closes every step before the one holding `time`; on `queue`.
    func stepTo(_ time: Double) {
        guard time.isFinite, config.history.enabled else { return }
        let k = Int(time.rounded(.down))
        guard openStep != Int.min else {
            openStep = k
            nextStepBoundary = Double(k + 1)
            return
        }
        guard k > openStep else { return }
        closeStep(openStep)
        var next = openStep + 1
        // After a long silence, only the steps the short ring can still hold are walked; the
        // minute the data was in is closed first.
        let keep = max(config.history.shortSteps, config.history.detailShortSteps, 1)
        if k - next > keep {
            if (openStep + 1) % 60 != 0 { closeMinute(Self.minute(of: openStep)) }
            next = k - keep
            if next % 60 != 0 { resetMinutes() }  // the minute now starting mid-way has no past
        }
        while next < k { closeStep(next); next += 1 }
        openStep = k
        nextStepBoundary = Double(k + 1)
    }

    static func minute(of step: Int) -> Int { Int((Double(step) / 60).rounded(.down)) }

    /// Closes step `j` (the second `[j, j+1)`).
    func closeStep(_ j: Int) {
        guard config.history.enabled else { return }  // no steps recorded, nothing to walk
        let now = Double(j + 1)
        scratchRegion.reset()
        var region = StepTotals()
        for siteSlot in sites.indices {  // by index: copying the site's placement costs a retain per string
            scratchSite.reset()
            var siteTotals = StepTotals()
            /// A node's step `j`: its 1 s ring, its minute so far, and its site's totals. A quiet
            /// step repeats the node's last one, which wrote the same totals (its bytes are copied).
            func record(_ totals: StepTotals, p50: Double, p99: Double, of n: NodeState, in rings: HistoryRings, quiet: Bool = false) {
                if !quiet || !rings.short.repeatNewest(as: j) { rings.short.write(j, totals.step(p50: p50, p99: p99)) }
                n.minuteWorst = max(n.minuteWorst ?? totals.health.worst, totals.health.worst)
                var forMinute = totals
                forMinute.health = HealthCounts()
                n.minuteTotals.add(forMinute)
                siteTotals.add(totals)
            }
            for slot in sites[siteSlot].nodeSlots {
                let n = nodes[slot]
                let rings = n.history ?? makeRings(n)
                // A quiet node repeats its last quiet step (a sparse replay has thousands).
                if !n.touched, let quiet = n.idleTotals, now <= n.idleValidUntil, j % 5 != 0 || n.verdictFresh, !config.historyWalksQuietNodes {
                    record(quiet, p50: .nan, p99: .nan, of: n, in: rings, quiet: true)
                    continue
                }
                let wasTouched = n.touched
                n.touched = false
                let counting = countingSeries(n, now: now) { $0.stepHasData }
                var totals = StepTotals()
                for s in counting { totals.count &+= s.step.totalCount; totals.errors &+= s.errorsStep }
                let q = quantilesIntoSite(counting, minute: false)
                for s in n.series { s.resetStep() }
                totals.addGauges(of: n, now: now, staleAfter: config.staleAfterSeconds)
                let state = nodeStepState(n, totals: totals, now: now, judgeLatency: j % 5 == 0)
                totals.health.add(state)
                if j % 5 == 0 { n.verdictFresh = true } else if wasTouched { n.verdictFresh = false }
                if counting.isEmpty && !wasTouched {
                    n.idleTotals = totals
                    n.idleValidUntil = quietUntil(n, now: now)
                } else {
                    n.idleTotals = nil
                }
                record(totals, p50: q.p50, p99: q.p99, of: n, in: rings)
            }
            finishSite(siteSlot, j, siteTotals, long: false, region: &region)
        }
        finishRegion(j, region, long: false)
        if (j + 1) % 60 == 0 { closeMinute(Self.minute(of: j)) }
    }

    /// The last time at which a node that receives nothing more still gets the same step as at
    /// `now`: the earliest age rule still ahead of it (the node or a GPU going stale, a recent
    /// Xid or an upstream health expiring). Every rule of `HealthRules.stepState` and
    /// `StepTotals.addGauges` that reads the clock is here.
    private func quietUntil(_ n: NodeState, now: Double) -> Double {
        var until = Double.infinity
        func ahead(_ t: Double) { if t.isFinite && t >= now { until = min(until, t) } }
        ahead(n.lastSeen + config.staleAfterSeconds)
        for g in n.gpus {
            ahead(g.lastSeen + config.staleAfterSeconds)
            if g.xid != 0 { ahead(g.xidTime + config.windowSeconds) }
        }
        if n.reportedHealth != nil { ahead(n.reportedAt + config.windowSeconds) }
        return until
    }

    /// The series that count for node `n` in a step or a minute (`hasData` says which of
    /// theirs): per service, the most exact source with data — per-sample before
    /// bucket-bounded, then by source kind, then the first registered (as `chooseSeries` does
    /// for the window) — with every class of that source.
    private func countingSeries(_ n: NodeState, now: Double, hasData: (LatencySeries) -> Bool) -> [LatencySeries] {
        if n.series.count == 1 { return hasData(n.series[0]) ? n.series : [] }
        var best: [String: (rank: (Int, Int, Int), source: SourceID)] = [:]
        for s in n.series where hasData(s) {
            let info = Self.info(of: s.source, in: sources)
            let rank = (s.bucketBoundedUntil >= now ? 1 : 0, info.kind.preference, Int(s.source))
            if let b = best[info.service], b.rank <= rank { continue }
            best[info.service] = (rank, s.source)
        }
        let chosen = Set(best.values.map(\.source))
        return n.series.filter { chosen.contains($0.source) && hasData($0) }
    }

    /// p50 and p99 of the counting series' step (or minute) histograms merged, which are also
    /// merged into `scratchSite`; a single series (nearly every node) is read in place.
    private func quantilesIntoSite(_ series: [LatencySeries], minute: Bool) -> (p50: Double, p99: Double) {
        if series.count == 1 {
            let s = series[0]
            if minute { scratchSite.merge(s.minute); return s.minute.stepQuantiles() }
            scratchSite.merge(s.step)
            return s.step.stepQuantiles()
        }
        scratchNode.reset()
        for s in series { if minute { scratchNode.merge(s.minute) } else { scratchNode.merge(s.step) } }
        scratchSite.merge(scratchNode)
        return scratchNode.stepQuantiles()
    }

    /// Writes site `slot`'s step (or minute) `k` from `scratchSite` and merges it into the region's.
    private func finishSite(_ slot: Int, _ k: Int, _ totals: StepTotals, long: Bool, region: inout StepTotals) {
        let q = scratchSite.stepQuantiles()
        let rings = siteRings(slot)
        rings.write(k, totals.step(p50: q.p50, p99: q.p99), long: long)
        scratchRegion.merge(scratchSite)
        region.add(totals)
    }

    /// Writes the region's step (or minute) `k` from `scratchRegion` and hands it to the fleet.
    private func finishRegion(_ k: Int, _ totals: StepTotals, long: Bool) {
        let q = scratchRegion.stepQuantiles()
        regionHistory?.write(k, totals.step(p50: q.p50, p99: q.p99), long: long)
        fleetHistory?.contribute(region: index, step: k, long: long, histogram: scratchRegion.compacted(), totals: totals)
    }

    /// The node's state at the end of a step: errors over the step, latency over the minute so
    /// far once it holds enough requests, judged every `judgeLatency` step (a quantile of the
    /// minute per node per second is the walk's largest cost; the verdict stands in between).
    private func nodeStepState(_ n: NodeState, totals: StepTotals, now: Double, judgeLatency: Bool) -> HealthState {
        let outcomes = Double(totals.count) + Double(totals.errors)
        let errorRatio = outcomes > 0 ? Double(totals.errors) / outcomes : 0
        var latency = LatencySummary.empty
        if judgeLatency, let series = countingSeries(n, now: now, hasData: { !$0.minute.isEmpty }).first,
           series.minute.totalCount >= config.minSamplesForTier {
            n.slowVerdict = series.minute.quantile(0.99) > n.placement.tierMs
        }
        if n.slowVerdict {
            latency = LatencySummary(count: config.minSamplesForTier, p50: .nan, p90: .nan, p99: .infinity,
                                     min: .nan, max: .nan, mean: .nan)
        }
        return HealthRules.stepState(node: n, now: now, errorRatio: errorRatio, latency: latency, config: config)
    }

    /// Closes minute `m`: each node's minute histogram (its steps merged) fills its 1 min ring
    /// and merges into its site's, region's and the fleet's.
    func closeMinute(_ m: Int) {
        guard config.history.enabled else { return }
        let now = Double((m + 1) * 60)
        scratchRegion.reset()
        var region = StepTotals()
        for siteSlot in sites.indices {  // by index: copying the site's placement costs a retain per string
            scratchSite.reset()
            var siteTotals = StepTotals()
            for slot in sites[siteSlot].nodeSlots {
                let n = nodes[slot]
                guard let rings = n.history, let worst = n.minuteWorst else { continue }
                var totals = n.minuteTotals
                totals.health.add(worst)
                let q = quantilesIntoSite(countingSeries(n, now: now) { !$0.minute.isEmpty }, minute: true)
                rings.long.write(m, totals.step(p50: q.p50, p99: q.p99))
                siteTotals.add(totals)
                resetMinute(n)
            }
            guard siteTotals.health.total > 0 else { continue }
            finishSite(siteSlot, m, siteTotals, long: true, region: &region)
        }
        guard region.health.total > 0 else { return }
        finishRegion(m, region, long: true)
    }

    private func resetMinute(_ n: NodeState) {
        for s in n.series { s.minute.reset() }
        n.minuteTotals = StepTotals()
        n.minuteWorst = nil
    }

    private func makeRings(_ n: NodeState) -> HistoryRings {
        let r = HistoryRings(config: config.history, wide: false, detail: true)
        n.history = r
        return r
    }

    private func siteRings(_ slot: Int) -> HistoryRings {
        while siteHistory.count <= slot { siteHistory.append(nil) }
        if let r = siteHistory[slot] { return r }
        let r = HistoryRings(config: config.history, wide: true, detail: true)
        siteHistory[slot] = r
        return r
    }

    /// Bench only: writes every ring slot.
    func fillHistoryRings() {
        guard config.history.enabled else { return }
        for n in nodes where n.history == nil { _ = makeRings(n) }
        for s in sites.indices { _ = siteRings(s) }
        let all = nodes.compactMap(\.history) + siteHistory.compactMap { $0 } + (regionHistory.map { [$0] } ?? [])
        for r in all { r.fill() }
    }

    private func resetMinutes() { for n in nodes { resetMinute(n) } }

    /// Histories of this shard's entities; on `queue`. Closes the steps before `now` first.
    func history(nodes slots: [(HistoryEntity, Int32)], sites ids: [(HistoryEntity, String)], region: HistoryEntity?,
                 span: HistorySpan, at now: Double) -> [(HistoryEntity, HistorySeries)] {
        stepTo(now)
        var out: [(HistoryEntity, HistorySeries)] = []
        if let e = region, let r = regionHistory { out.append((e, r.series(span, at: now))) }
        for (e, id) in ids {
            if let s = siteSlotByID[id], s < siteHistory.count, let r = siteHistory[s] { out.append((e, r.series(span, at: now))) }
        }
        for (e, slot) in slots where slot >= 0 && Int(slot) < nodes.count {
            if let r = nodes[Int(slot)].history { out.append((e, r.series(span, at: now))) }
        }
        return out
    }
}
