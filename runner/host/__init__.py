"""The strategy host: strategy code runs in its own process, never in a runner's interpreter.

- `client.StrategyHost`: the runner's side (load/validate, decide with a
  deadline, kill and restart, blame a generation);
- `caller.HostCaller`: decide for the tick, returning `StrategyOutcome`s
  checked runner-side;
- `process.HostProcess`: one host process and its framed socket;
- `server`: the host's own main loop; `guard`: its containment (limits,
  audit hook); `allowlist`: what strategy code may import; `codec`: the
  pickle-free wire format.
"""
