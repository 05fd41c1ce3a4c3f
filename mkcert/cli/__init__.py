"""The commands: arguments in, messages and an exit status out."""
