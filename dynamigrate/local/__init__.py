"""Local mode: AWS emulated on this machine, sealed from the real one.

- `emulator`: moto pinned, and every adaptation dynamigrate needs from it, in one place;
- `seal`: local mode sealed: no request beyond the emulator, the user's AWS configuration
  replaced, Ctrl-C one line and exit 130;
- `functions`: a template's Python transform functions, imported in-process (the local Lambda);
- `engine`: the migration state machines and the worker installed in the emulator;
- `app`: the SAM application of template.yaml installed there (runner, controller);
- `cloudformation`: the local CloudFormation that deploys a user's template;
- `run`: `local run`, everything in this process;
- `server` and `stacks`: `local serve`, its wire (routes) and the state it holds (the stacks).
"""
