--- The one place that holds the lua-fsx version.
-- `fsx._VERSION`, the user agent, `fsx-backup --version` and the rockspec all read it.
-- @module fsx.version
return "0.1.0"
