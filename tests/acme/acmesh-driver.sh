#!/bin/sh
# Call an acme.sh deploy hook as acme.sh 3.x does (its _deploy function): the
# hook file is sourced, its NAME_deploy function must exist, and it is called
# with domain, key, certificate, CA certificate and full chain, its return
# status deciding success. acme.sh itself is not packaged in Debian 12.
# usage: acmesh-driver.sh HOOKFILE DOMAIN KEY CERT CA FULLCHAIN
set -u
_deployApi=$1
shift
# acme.sh's logging helpers, which hooks call.
_info() { echo "[acme.sh] $*" >&2; }
_err() { echo "[acme.sh] error: $*" >&2; return 1; }
_debug() { :; }
_exists() { command -v "$1" >/dev/null 2>&1; }
if ! . "$_deployApi"; then
  _err "cannot source $_deployApi"
  exit 1
fi
_d_api=$(basename "$_deployApi" .sh)
d_command="${_d_api}_deploy"
if ! _exists "$d_command"; then
  _err "$_deployApi defines no $d_command function"
  exit 1
fi
if ! $d_command "$1" "$2" "$3" "$4" "$5"; then
  _err "$d_command failed for $1"
  exit 1
fi
_info "$d_command succeeded for $1"
