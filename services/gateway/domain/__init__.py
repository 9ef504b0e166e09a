"""The gateway's rules as plain Python: which path goes where, who may call what, how fast."""
