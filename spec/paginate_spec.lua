-- Every listing ends and pages can be walked as boto3's paginators walk
-- them.
--
-- Against spec/support/hostile_server.py: a service handing out a fresh
-- NextToken for ever is stopped by the page cap (default, client option and
-- per call) with a `limit` error, also under the waiters and prune_backups,
-- which page through each_backup; a service handing back the same token is
-- stopped at once with `PaginationLoop`. Against the local FSx server (real
-- tokens, 3 items a page): `client:paginate` gives pages with meta,
-- `max_items` cuts a page and gives a resume token, and `starting_token`
-- resumes with neither a gap nor a repeat.
local fsx = require "fsx"
local core = require "fsx.core"
local helpers = require "helpers"
local paginate = require "fsx.paginate"
local procs = require "support.procs"

local FS = "fs-0123456789abcdef0"

describe("paging", function()
  local hostile

  lazy_setup(function()
    hostile = procs.start("hostile_server.py")
  end)

  lazy_teardown(function()
    procs.stop(hostile)
  end)

  local function requests_seen()
    local h = assert(core.http_new())
    local _, _, body = h:perform{ method = "GET", url = hostile.url .. "/count", timeout = 5 }
    h:close()
    return tonumber(body:match('"requests":%s*(%d+)'))
  end

  local function reset()
    local h = assert(core.http_new())
    h:perform{ method = "GET", url = hostile.url .. "/reset", timeout = 5 }
    h:close()
  end

  before_each(reset)

  local function client_for(path, opts)
    local o = { region = "us-east-1", endpoint_url = hostile.url .. path,
                credentials = helpers.credentials(), retry_base = 0.01, max_attempts = 1 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return fsx.new(o)
  end

  -- Items of a listing until it ends; a listing still going after 5000
  -- items fails the spec instead of running for ever.
  local function drain(iter)
    local n = 0
    local ok, err = pcall(function()
      for _ in iter do
        n = n + 1
        assert(n <= 5000, "the listing did not end")
      end
    end)
    return ok, err, n
  end

  describe("a service handing out fresh tokens for ever", function()
    it("ends at the default page cap with a limit error", function()
      local c = client_for("/pages-forever")
      local ok, err, n = drain(c:each_backup{})
      assert.is_false(ok)
      assert.is_true(fsx.is_error(err, "PaginationLimitExceeded"), tostring(err))
      assert.equal("limit", err.kind)
      assert.equal(paginate.DEFAULT_MAX_PAGES, n)
      assert.equal(paginate.DEFAULT_MAX_PAGES, requests_seen())
      assert.truthy(tostring(err):find("max_pages", 1, true))
    end)

    it("ends at the client's max_pages, and at a call's own", function()
      local c = client_for("/pages-forever", { max_pages = 7 })
      local ok, err, n = drain(c:each_backup{})
      assert.is_false(ok)
      assert.equal("PaginationLimitExceeded", err.code)
      assert.equal(7, n)
      assert.equal(7, requests_seen())
      reset()
      ok, err, n = drain(c:each_backup({}, { max_pages = 3 }))
      assert.is_false(ok)
      assert.equal("PaginationLimitExceeded", err.code)
      assert.equal(3, n)
      assert.equal(3, requests_seen())
    end)

    it("ends a waiter and prune_backups too", function()
      local c = client_for("/pages-forever", { max_pages = 5 })
      local ok, err = pcall(c.wait_for_backup, c, "backup-0123456789abcdef0",
                            { timeout = 600, min_delay = 0.01, max_delay = 0.01 })
      assert.is_false(ok)
      assert.is_true(fsx.is_error(err, "PaginationLimitExceeded"), tostring(err))
      assert.truthy(requests_seen() <= 5 * 3, "the waiter kept paging")
      reset()
      ok, err = pcall(c.prune_backups, c, { file_system_id = FS, keep_last = 1, dry_run = true })
      assert.is_false(ok)
      assert.equal("PaginationLimitExceeded", err.code)
      assert.equal(5, requests_seen())
    end)

    it("refuses a cap that is not a whole number >= 1", function()
      assert.is_false(pcall(fsx.new, { region = "us-east-1", max_pages = 0 }))
      assert.is_false(pcall(fsx.new, { region = "us-east-1", max_pages = 1.5 }))
      local c = client_for("/pages-forever")
      for _, bad in ipairs{ 0, -1, 2.5, "3", 2 ^ 60 } do
        local ok, err = pcall(c.each_backup, c, {}, { max_pages = bad })
        assert.is_false(ok)
        assert.equal("validation", err.kind)
      end
      local ok, err = pcall(c.each_backup, c, {}, { max_page = 3 })
      assert.is_false(ok)
      assert.equal("validation", err.kind)
      assert.equal(0, requests_seen())
    end)
  end)

  it("stops at once when the service hands back the same token", function()
    local c = client_for("/pages-repeat")
    local ok, err, n = drain(c:each_backup{})
    assert.is_false(ok)
    assert.equal("PaginationLoop", err.code)
    assert.equal("decode", err.kind)
    assert.equal(1, n)
    assert.equal(2, requests_seen())
    -- a resume token naming the token the service then hands back: one page
    reset()
    ok, err, n = drain(c:each_backup({}, { starting_token = "c2FtZS10b2tlbg==" }))
    assert.is_false(ok)
    assert.equal("PaginationLoop", err.code)
    assert.equal(0, n)
    assert.equal(1, requests_seen())
  end)

  describe("pages with meta against the local FSx server", function()
    local server, c
    local ids = {}

    lazy_setup(function()
      server = helpers.start_fsx_server()
      server:config{ backup_seconds = 0 }
      c = fsx.new{ region = "us-east-1", endpoint_url = server.url, credentials = helpers.credentials() }
      for i = 1, 7 do
        ids[i] = c:create_backup{ file_system_id = FS, tags = { Name = "page-" .. i } }.backup_id
      end
      server:config{ page_size = 3 }
    end)

    lazy_teardown(function()
      if server then server:stop() end
    end)

    local function collect(config)
      local got, metas = {}, {}
      for page, meta in c:paginate("describe_backups", { filters = {
          { name = "file-system-id", values = { FS } } } }, config) do
        metas[#metas + 1] = meta
        for _, b in ipairs(page.backups) do got[#got + 1] = b.backup_id end
      end
      return got, metas
    end

    it("gives every page with its meta", function()
      local got, metas = collect()
      assert.same(ids, got)
      assert.equal(3, #metas)
      for i, m in ipairs(metas) do
        assert.equal(i, m.page)
        assert.is_string(m.request_id)
        assert.equal(i < 3, m.next_token ~= nil)
      end
    end)

    it("cuts at max_items and resumes from the token with no gap and no repeat", function()
      for _, cut in ipairs{ 1, 3, 4, 5, 6 } do
        local first, metas = collect{ max_items = cut }
        assert.equal(cut, #first)
        local resume = metas[#metas].next_token
        assert.is_string(resume)
        local rest = collect{ starting_token = resume }
        for _, id in ipairs(rest) do first[#first + 1] = id end
        assert.same(ids, first)
      end
      local all = collect{ max_items = 7 }
      assert.same(ids, all)
    end)

    it("asks for page_size items a page, and each_* takes the same settings", function()
      local _, metas = collect{ page_size = 2 }
      assert.equal(4, #metas)
      local got = {}
      for b in c:each_backup({ filters = { { name = "file-system-id", values = { FS } } } },
                             { max_items = 4, page_size = 2 }) do
        got[#got + 1] = b.backup_id
      end
      assert.same({ ids[1], ids[2], ids[3], ids[4] }, got)
    end)

    it("names only paginated operations", function()
      assert.is_false(pcall(c.paginate, c, "create_backup", {}))
      assert.is_false(pcall(c.paginate, c, "NoSuchOperation", {}))
      local n = 0
      for _ in c:paginate("DescribeBackups", {}) do n = n + 1 end
      assert.is_true(n >= 3)
    end)
  end)
end)
