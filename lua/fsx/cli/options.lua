--- What `fsx-backup` accepts: its options and commands, as declarations that
-- the parser (`fsx.cli.args`), the help (`fsx.cli.help`) and the commands
-- (`fsx.cli.commands`) read.
--
-- Layer: CLI. Data only.
-- @module fsx.cli.options
local M = {}

M.PROGRAM = "fsx-backup"

-- Option declarations. `arg`: the value's placeholder (nil for a flag);
-- `check`: the value's kind; `repeated`: collected into a list; `resume`:
-- carried into the command lines the tool prints for resuming (they must
-- reach the same service the same way).
M.OPTIONS = {
  region = { arg = "REGION", resume = true, help = "AWS region (default: AWS_REGION, the profile)" },
  profile = { arg = "NAME", resume = true, help = "shared config/credentials profile (default: AWS_PROFILE)" },
  ["endpoint-url"] = { arg = "URL", resume = true, help = "send requests to this URL instead of the FSx endpoint" },
  output = { arg = "FORMAT", resume = true, choices = { "json", "text", "table" },
             help = "json, text (tab-separated) or table (default: AWS_DEFAULT_OUTPUT, "
                    .. "the profile's output, json)" },
  ["max-attempts"] = { arg = "N", check = "count", resume = true, help = "attempts per request, retries included" },
  quiet = { help = "no progress or notices on stderr (errors still print)" },
  debug = { help = "print each request and response (secrets redacted) to stderr" },
  ["dry-run"] = { help = "validate, sign and print the request; send nothing" },
  help = { help = "show help" },
  version = { help = "print the version" },
  ["file-system-id"] = { arg = "ID", help = "the file system (fs-...)" },
  ["volume-id"] = { arg = "ID", help = "the volume (fsvol-...)" },
  tag = { arg = "KEY=VALUE", repeated = true, help = "a tag for the backup (repeatable)" },
  ["copy-tags"] = { arg = "POLICY", choices = { "none", "file_system", "merge", "replace" },
                    help = "combine the file system's or volume's tags with --tag: "
                           .. "none (default), file_system, merge or replace" },
  token = { arg = "TOKEN", help = "ClientRequestToken (1-63 of A-Z a-z 0-9 _ . -)" },
  ["token-from"] = { arg = "TEXT", help = "derive a stable ClientRequestToken from TEXT" },
  wait = { help = "wait until the backup is AVAILABLE, showing progress" },
  timeout = { arg = "SECONDS", check = "positive", help = "give up waiting after SECONDS (exit 3)" },
  ["keep-last"] = { arg = "N", check = "count0", help = "keep the N newest backups" },
  ["keep-days"] = { arg = "DAYS", check = "nonneg", help = "keep backups younger than DAYS days" },
  ["include-type"] = { arg = "TYPE", choices = { "AUTOMATIC" }, repeated = true,
                       help = "also prune backups of this type: AUTOMATIC "
                              .. "(by default only USER_INITIATED ones)" },
  ["include-failed"] = { help = "also delete FAILED backups outside the keep window" },
  apply = { help = "delete what the plan says (without it prune only prints the plan)" },
  ["max-interval"] = { arg = "SECONDS", check = "positive", resume = true,
                       help = "the longest pause between two polls while waiting (default 15)" },
  ["source-region"] = { arg = "REGION", help = "the Region of the source backup (default: --region, a copy "
                                               .. "in the same Region)" },
  ["copy-source-tags"] = { help = "copy the source backup's tags to the copy (CopyBackup's CopyTags)" },
  ["kms-key-id"] = { arg = "KEY", help = "the KMS key that encrypts the copy" },
  ["subnet-id"] = { arg = "ID", repeated = true, help = "a subnet of the new file system (repeatable)" },
  ["security-group-id"] = { arg = "ID", repeated = true,
                            help = "a security group of the new file system (repeatable)" },
  ["volume-name"] = { arg = "NAME", help = "restore an ONTAP volume backup to a new volume of this name" },
  ["storage-virtual-machine-id"] = { arg = "ID", help = "the SVM of the new volume (svm-...)" },
  ["input-json"] = { arg = "JSON", help = "more request fields, as a JSON object in snake_case, "
                                          .. "e.g. the windows_configuration of a Windows file system" },
  type = { arg = "TYPE", choices = { "USER_INITIATED", "AUTOMATIC", "AWS_BACKUP" }, repeated = true,
           help = "only backups of this type (repeatable: any of them)" },
  ["tag-filter"] = { arg = "KEY[=VALUE]", repeated = true,
                     help = "only backups with this tag (KEY alone: any value; repeatable: every "
                            .. "key must match, a KEY given twice: any of its values)" },
}

M.COMMON = { "region", "profile", "endpoint-url", "output", "max-attempts", "quiet",
                 "debug", "dry-run", "help" }

M.COMMANDS = {
  create = {
    summary = "create a backup of a file system or volume",
    usage = "create (--file-system-id ID | --volume-id ID)\n"
         .. "       [--tag KEY=VALUE ...] [--copy-tags none|file_system|merge|replace]\n"
         .. "       [--token TOKEN | --token-from TEXT]\n"
         .. "       [--wait [--timeout SECONDS] [--max-interval SECONDS]]",
    options = { "file-system-id", "volume-id", "tag", "copy-tags", "token", "token-from",
                "wait", "timeout", "max-interval" },
    min_args = 0, max_args = 0,
    text = "Prints the backup (or, with --wait, the AVAILABLE backup). Re-running with the\n"
        .. "same --token or --token-from returns the same backup instead of a second one:\n"
        .. "use --token-from \"$RUN_ID/$FILE_SYSTEM_ID\" in playbooks that may be re-run.",
  },
  wait = {
    summary = "wait until backups are AVAILABLE",
    usage = "wait BACKUP_ID... [--timeout SECONDS]\n       [--max-interval SECONDS]",
    options = { "timeout", "max-interval" },
    min_args = 1, max_args = math.huge, arg_name = "BACKUP_ID",
    text = "Prints the AVAILABLE backups. Exit 3 when --timeout passes, 4 when a backup\n"
        .. "FAILED or was deleted, 128+N on signal N (130 on Ctrl-C; the backups are left\n"
        .. "alone and the line that resumes is printed).",
  },
  describe = {
    summary = "describe backups (every page)",
    usage = "describe [BACKUP_ID...]\n       [--file-system-id ID] [--volume-id ID]\n"
         .. "       [--type USER_INITIATED|AUTOMATIC|AWS_BACKUP ...]\n"
         .. "       [--tag-filter KEY[=VALUE] ...]",
    options = { "file-system-id", "volume-id", "type", "tag-filter" },
    min_args = 0, max_args = math.huge, arg_name = "BACKUP_ID",
    text = "Without arguments, describes every backup the account can see in the region.\n"
        .. "--type is sent as DescribeBackups' backup-type filter; --tag-filter is applied\n"
        .. "to what the service returns.",
  },
  delete = {
    summary = "delete a backup",
    usage = "delete BACKUP_ID [--token TOKEN | --token-from TEXT]",
    options = { "token", "token-from" },
    min_args = 1, max_args = 1, arg_name = "BACKUP_ID",
    text = "Prints the DeleteBackup result (backup_id and lifecycle DELETED). Without\n"
        .. "--token the token is derived from the backup ID, so running the same delete\n"
        .. "again succeeds and reports DELETED again.",
  },
  prune = {
    summary = "plan (and with --apply, delete) old backups by a retention rule",
    usage = "prune (--file-system-id ID | --volume-id ID)\n"
         .. "       [--keep-last N] [--keep-days DAYS] [--tag KEY[=VALUE] ...]\n"
         .. "       [--include-type AUTOMATIC] [--include-failed] [--apply]",
    options = { "file-system-id", "volume-id", "keep-last", "keep-days", "tag",
                "include-type", "include-failed", "apply" },
    overrides = {
      tag = { arg = "KEY[=VALUE]", help = "only prune backups with this tag (repeatable)" },
      ["dry-run"] = { help = "plan only (the default without --apply)" },
    },
    min_args = 0, max_args = 0,
    text = "Plans by default: prints what it would keep and delete, and why, sending only\n"
        .. "DescribeBackups. With --apply it deletes what the plan says. Keeps the\n"
        .. "--keep-last newest backups and those younger than --keep-days (at least one\n"
        .. "of the two is required). Never deletes a backup that is not AVAILABLE (FAILED\n"
        .. "ones only with --include-failed), nor the newest AVAILABLE one it could delete,\n"
        .. "nor AUTOMATIC backups unless --include-type names them, nor AWS_BACKUP ones\n"
        .. "(FSx refuses to delete those). --tag limits pruning to backups carrying every\n"
        .. "given tag (KEY alone: any value; a KEY given twice: any of the values).\n"
        .. "Exit 1 when the service refused any deletion.",
  },
}
M.COMMANDS.copy = {
  summary = "copy a backup, from another Region or the same one",
  usage = "copy SOURCE_BACKUP_ID\n"
       .. "       [--source-region REGION] [--copy-source-tags]\n"
       .. "       [--tag KEY=VALUE ...] [--kms-key-id KEY]\n"
       .. "       [--token TOKEN | --token-from TEXT]\n"
       .. "       [--wait [--timeout SECONDS] [--max-interval SECONDS]]",
  options = { "source-region", "copy-source-tags", "tag", "kms-key-id", "token", "token-from",
              "wait", "timeout", "max-interval" },
  overrides = { tag = { help = "a tag for the copy (repeatable)" } },
  min_args = 1, max_args = 1, arg_name = "SOURCE_BACKUP_ID",
  text = "Makes the copy in --region (the destination) from the backup in\n"
      .. "--source-region, and prints it (with --wait, once it is AVAILABLE). Like\n"
      .. "create, it always sends a token, printed on an interrupt, so a re-run does not\n"
      .. "make a second copy.",
}
M.COMMANDS.restore = {
  summary = "restore a backup to a new file system or volume",
  usage = "restore BACKUP_ID\n"
       .. "       (--subnet-id ID ... [--security-group-id ID ...]\n"
       .. "        | --volume-name NAME --storage-virtual-machine-id ID)\n"
       .. "       [--tag KEY=VALUE ...] [--input-json JSON]\n"
       .. "       [--token TOKEN | --token-from TEXT]\n"
       .. "       [--wait [--timeout SECONDS] [--max-interval SECONDS]]",
  options = { "subnet-id", "security-group-id", "volume-name", "storage-virtual-machine-id", "tag",
              "input-json", "token", "token-from", "wait", "timeout", "max-interval" },
  overrides = { tag = { help = "a tag for the new file system or volume (repeatable)" },
                wait = { help = "wait until it is ready, showing progress" } },
  min_args = 1, max_args = 1, arg_name = "BACKUP_ID",
  text = "A file system backup becomes a new file system (CreateFileSystemFromBackup:\n"
      .. "give its subnets; Windows and OpenZFS need their configuration in\n"
      .. "--input-json), an ONTAP volume backup a new volume (CreateVolumeFromBackup).\n"
      .. "Prints it; with --wait, once it is ready (a volume: CREATED/AVAILABLE and its\n"
      .. "data downloaded).",
}
M.COMMAND_ORDER = { "create", "wait", "describe", "delete", "prune", "copy", "restore" }

return M
