#!/bin/sh
# The seed's backup-all.sh, now a wrapper around the controller: see seed-compat.sh.
exec "$(dirname "$0")/seed-compat.sh" backup-all "$@"
