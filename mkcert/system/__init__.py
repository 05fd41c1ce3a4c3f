"""The machine around a run: bounded reads, safe publication, signals, processes. No X.509."""
