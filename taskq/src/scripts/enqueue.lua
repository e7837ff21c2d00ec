--[[
  Enqueues a job unless its idempotency key is held or its queue is full:
  see includes/enqueue_job.lua for the steps.

  Keys: every key it touches is in KEYS.
  All keys lie under KEY_PREFIX and its one hash tag: one slot (Redis Cluster).

  Input:
    KEYS[1] job hash
    KEYS[2] queue list
    KEYS[3] idempotency key
    KEYS[4] wake list
    KEYS[5] the queue's tombstone counter
    KEYS[6] the queue's push counter
    KEYS[7] the queue's set of scheduled jobs (only for a job with a time ahead)
    ARGV[1] job id
    ARGV[2] the job's duration plus IDEMP_MARGIN, seconds (kept as idem_ttl)
    ARGV[3] task name
    ARGV[4] args (JSON)
    ARGV[5] queue name
    ARGV[6] now (RFC 3339)
    ARGV[7] timeout, seconds
    ARGV[8] most waiting jobs the queue may hold (MAX_QUEUED), 0 for no bound
    ARGV[9] when it may run, ms since the epoch; 0 for now
    ARGV[10] when it may run (RFC 3339), or ''
    ARGV[11] retry policy (JSON), or '' when never retried
    ARGV[9..11] may be left out together: a job for now, never retried

  Output:
    nil             enqueued
    string          id of the job already holding the key (duplicate)
    integer         the queue is full: the number of jobs waiting in it
]]
return enqueue_job(KEYS, ARGV, 0, 0, '', '')
