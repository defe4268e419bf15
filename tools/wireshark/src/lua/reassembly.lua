-- ---------------------------------------------------------------------------------------------
-- Fragment reassembly across datagrams. Wireshark's reassembly tables are not open to Lua, so the
-- fragments' bytes are kept here, keyed by (session, topic, sequence) as a receiver keys them.
-- State changes only on the first pass over a capture (pinfo.visited false, frames in order); what
-- each frame showed is kept by frame number so later passes (clicking a packet) show the same.
-- Every table is capped; the caps are the receivers' defaults (W.LIMITS) where they have one.
-- ---------------------------------------------------------------------------------------------

-- Partial messages held at once; past it the oldest is dropped (a receiver's default).
local REASSEMBLY_MAX_PARTIAL_MESSAGES = W.LIMITS.MAX_PARTIAL_MESSAGES
-- Bytes of fragments held at once; past it the oldest partial messages are dropped.
local REASSEMBLY_MAX_PARTIAL_BYTES = W.LIMITS.MAX_PARTIAL_BYTES
-- A message declaring more bytes than this is not reassembled (receivers refuse it: too-large).
local REASSEMBLY_MAX_MESSAGE_BYTES = W.LIMITS.MAX_MESSAGE_BYTES
-- A partial message with no new fragment for this long (capture time) is dropped, seconds.
local REASSEMBLY_TIMEOUT_S = W.LIMITS.REASSEMBLY_TIMEOUT_MS / 1000
-- Reassembled messages kept for re-dissection (clicking a frame in the GUI), bytes; past it the
-- oldest are forgotten and their frame says so.
local REASSEMBLED_KEEP_BYTES = 256 * 1024 * 1024

local partial, partial_count, partial_bytes, arrival = {}, 0, 0, 0
local completed_in = {}            -- message key -> frame number that completed it
local by_frame = {}                -- frame number -> { status, key, message = ByteArray?, frames = {...} }
local kept, kept_bytes, kept_first = {}, 0, 1 -- FIFO of frame numbers holding a reassembled message

local function reset_reassembly()
  partial, partial_count, partial_bytes, arrival = {}, 0, 0, 0
  completed_in, by_frame = {}, {}
  kept, kept_bytes, kept_first = {}, 0, 1
end

local function message_key(h)
  return string.format("%08x/%u/%s", h.SESSION, h.SEQUENCE, h.topic)
end

local function forget(key)
  local m = partial[key]
  if m == nil then return end
  partial[key] = nil
  partial_count = partial_count - 1
  partial_bytes = partial_bytes - m.bytes
end

local function oldest_partial()
  local oldest
  for _, m in pairs(partial) do
    if oldest == nil or m.arrival < oldest.arrival then oldest = m end
  end
  return oldest
end

local function expire(now)
  for key, m in pairs(partial) do
    if now - m.last_seen > REASSEMBLY_TIMEOUT_S then forget(key) end
  end
end

local function keep(frame, message)
  kept[#kept + 1] = frame
  kept_bytes = kept_bytes + message:len()
  while kept_bytes > REASSEMBLED_KEEP_BYTES and kept_first < #kept do
    local old = by_frame[kept[kept_first]]
    kept_bytes = kept_bytes - old.message:len()
    old.message, old.forgotten = nil, true
    kept[kept_first] = nil
    kept_first = kept_first + 1
  end
end

-- The fragment's fit in its message's geometry (WIRE.md "Fragmentation"): fragment i at i * size,
-- every one but the last exactly one size, the last ending the message.
-- `length`: the fragment's bytes of the message (its payload, less a seal's tag).
local function fits_geometry(h, m, length)
  if h.FRAGMENT_INDEX >= h.FRAGMENT_COUNT then return false end
  if h.FRAGMENT_OFFSET + length > h.MESSAGE_LENGTH then return false end
  if h.FRAGMENT_INDEX == h.FRAGMENT_COUNT - 1 then
    return h.FRAGMENT_OFFSET + length == h.MESSAGE_LENGTH
  end
  if m.size == nil then return true end
  return length == m.size and h.FRAGMENT_OFFSET == h.FRAGMENT_INDEX * m.size
end

-- First pass: takes the fragment `h` of frame `pinfo.number` (`length` bytes of its message at
-- `payload_at` of `tvb`) and records what became of it.
local function add_fragment(tvb, h, pinfo, payload_at, length)
  local frame, key = pinfo.number, message_key(h)
  local note = { key = key }
  by_frame[frame] = note
  expire(pinfo.abs_ts)
  if completed_in[key] then note.status = FRAGMENT_STATE.LATE return end
  if h.MESSAGE_LENGTH > REASSEMBLY_MAX_MESSAGE_BYTES then note.status = FRAGMENT_STATE.TOO_LARGE return end
  local m = partial[key]
  if m == nil then
    m = { key = key, count = h.FRAGMENT_COUNT, length = h.MESSAGE_LENGTH, fingerprint = h.FINGERPRINT,
      fragments = {}, frames = {}, have = 0, bytes = 0 }
  elseif m.count ~= h.FRAGMENT_COUNT or m.length ~= h.MESSAGE_LENGTH or m.fingerprint ~= h.FINGERPRINT then
    note.status = FRAGMENT_STATE.MISMATCH
    return
  end
  if not fits_geometry(h, m, length) then note.status = FRAGMENT_STATE.BAD_GEOMETRY return end
  if m.fragments[h.FRAGMENT_INDEX] then note.status = FRAGMENT_STATE.DUPLICATE return end
  if partial[key] == nil then
    while partial_count >= REASSEMBLY_MAX_PARTIAL_MESSAGES do forget(oldest_partial().key) end
    arrival = arrival + 1
    m.arrival = arrival
    partial[key] = m
    partial_count = partial_count + 1
  end
  while partial_bytes + length > REASSEMBLY_MAX_PARTIAL_BYTES and partial_count > 1 do
    local oldest = oldest_partial()
    if oldest == m then break end
    forget(oldest.key)
  end
  if h.FRAGMENT_INDEX < h.FRAGMENT_COUNT - 1 then m.size = length end
  m.fragments[h.FRAGMENT_INDEX] = tvb:bytes(payload_at, length)
  m.frames[h.FRAGMENT_INDEX] = frame
  m.have, m.bytes, m.last_seen = m.have + 1, m.bytes + length, pinfo.abs_ts
  partial_bytes = partial_bytes + length
  note.status = FRAGMENT_STATE.HELD
  if m.have < m.count then return end
  local message = ByteArray.new()
  local frames = {}
  for i = 0, m.count - 1 do
    message:append(m.fragments[i])
    frames[#frames + 1] = m.frames[i]
  end
  forget(key)
  if message:len() ~= m.length then note.status = FRAGMENT_STATE.BAD_GEOMETRY return end
  note.status, note.message, note.frames = FRAGMENT_STATE.COMPLETED, message, frames
  completed_in[key] = frame
  keep(frame, message)
end

-- What became of the fragment in frame `frame` (first pass or later): its note, and the frame
-- its message was reassembled in when known.
local function fragment_note(frame)
  local note = by_frame[frame]
  if note == nil then return nil, nil end
  return note, completed_in[note.key]
end
