#!/bin/sh
# Lambda's Init order with external extensions: start every executable in the extensions folder,
# then the runtime (in this same process, so signals reach it). $1: the extensions folder; the
# rest: the runtime's command line.
dir="$1"
shift
for extension in "$dir"/*; do
  if [ -f "$extension" ] && [ -x "$extension" ]; then
    "$extension" &
  fi
done
exec "$@"
