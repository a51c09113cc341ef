#!/bin/sh
# A playbook step that backs up one FSx file system with fsx-backup, safe to
# re-run: --token-from derives the backup's ClientRequestToken from the run ID
# and the file-system ID, so a step that is re-run after a crash, a timeout or
# a retry of the whole job gets the SAME backup back instead of a second one.
#
#   examples/playbook.sh FILE_SYSTEM_ID [RUN_ID]
#
# RUN_ID defaults to $CI_PIPELINE_ID, then to today's date (one backup a day).
# Prints the backup ID on stdout; progress and errors go to stderr.
#
# Environment: the usual AWS_* variables (or --profile in FSX_BACKUP_ARGS);
# FSX_BACKUP, the command (default: fsx-backup; it may be "lua5.4 bin/fsx-backup");
# FSX_ENDPOINT_URL, an endpoint to use instead of AWS (tests use a local server);
# FSX_WAIT_TIMEOUT, seconds to wait for the backup (default 3600).
set -u

FSX_BACKUP=${FSX_BACKUP:-fsx-backup}
FILE_SYSTEM_ID=${1:?usage: playbook.sh FILE_SYSTEM_ID [RUN_ID]}
RUN_ID=${2:-${CI_PIPELINE_ID:-$(date -u +%Y-%m-%d)}}

set -- --file-system-id "$FILE_SYSTEM_ID" \
       --token-from "playbook/$RUN_ID/$FILE_SYSTEM_ID" \
       --tag "playbook-run=$RUN_ID" \
       --wait --timeout "${FSX_WAIT_TIMEOUT:-3600}" --output text
if [ -n "${FSX_ENDPOINT_URL:-}" ]; then
  set -- "$@" --endpoint-url "$FSX_ENDPOINT_URL"
fi

# FSX_BACKUP is split into words on purpose (an interpreter and a script).
# shellcheck disable=SC2086
out=$($FSX_BACKUP create "$@")
status=$?

case $status in
  0)
    # text output: BACKUP_ID LIFECYCLE PROGRESS TYPE RESOURCE CREATED SIZE, tab-separated
    printf '%s\n' "$out" | cut -f1
    ;;
  3)
    echo "backup of $FILE_SYSTEM_ID still running after the timeout;" \
         "re-run this step with the same RUN_ID to keep waiting for it" >&2
    exit 3
    ;;
  4)
    echo "backup of $FILE_SYSTEM_ID FAILED or was deleted; see the error above" >&2
    exit 4
    ;;
  129|130|143)
    # SIGHUP, SIGINT (Ctrl-C), SIGTERM: fsx-backup printed the line that resumes
    echo "interrupted; re-run with the same RUN_ID to pick the backup up again" >&2
    exit "$status"
    ;;
  *)
    # 1: a service or transport error, a wait that gave up after failed polls,
    # or a result that could not be written (the line above names it);
    # 2: a usage error
    exit "$status"
    ;;
esac
