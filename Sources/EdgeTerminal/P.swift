enum PEdgeTerminal {}
