"""What the commands do: make, renew, check, install, the deploy hook."""
