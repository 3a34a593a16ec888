#!/bin/sh
# The seed's restore-all.sh, now a wrapper around the controller: see seed-compat.sh.
exec "$(dirname "$0")/seed-compat.sh" restore-all "$@"
