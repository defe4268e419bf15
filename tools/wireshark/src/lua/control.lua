-- ---------------------------------------------------------------------------------------------
-- Control frames: ACK, NACK, NACK_FRAMES, HEARTBEAT, STATUS, SCHEMA, SCHEMA_REQUEST. Each payload reader checks what the
-- transport's decoder checks and marks what it would refuse with the receivers' drop reason.
-- Each returns the text for the Info column.
-- ---------------------------------------------------------------------------------------------

local function bad_payload(tree, reason)
  tree:add_proto_expert_info(E.bad_payload, reason)
end

-- ( u8 topic length T · topic · u32 sequence )* from `at` to `stop`: HEARTBEAT and STATUS entries.
local function dissect_topic_entries(tvb, at, stop, tree, entry_field, topic_field, sequence_field,
                                     max_entries, reason, what)
  local parts, count = {}, 0
  while at < stop do
    local length = tvb(at, 1):uint()
    if length == 0 or at + W.TOPIC_ENTRY_OVERHEAD + length > stop then
      bad_payload(tree, reason .. ": partial entry or empty topic")
      break
    end
    count = count + 1
    if count > max_entries then
      bad_payload(tree, string.format("%s: more than %d entries", reason, max_entries))
      break
    end
    local entry_length = W.TOPIC_ENTRY_OVERHEAD + length
    local topic = tvb(at + 1, length):string(ENC_UTF_8)
    local sequence = tvb(at + 1 + length, 4):uint()
    local entry = tree:add(entry_field, tvb(at, entry_length))
    entry:set_text(string.format("%s: %s sequence %u", topic, what, sequence))
    entry:add(F.entry_topic_length, tvb(at, 1))
    entry:add(topic_field, tvb(at + 1, length), topic)
    entry:add(sequence_field, tvb(at + 1 + length, 4))
    parts[#parts + 1] = string.format("%s %s %u", topic, what, sequence)
    at = at + entry_length
  end
  return parts
end

local function dissect_ack(tvb, h, pinfo, tree, payload_at, payload_length)
  if payload_length < W.ACK.NAME_OFFSET or payload_length > W.ACK.NAME_OFFSET + W.ACK.MAX_RECEIVER_NAME_BYTES then
    bad_payload(tree, string.format("bad-ack: %d payload bytes, expected %d to %d", payload_length,
      W.ACK.NAME_OFFSET, W.ACK.NAME_OFFSET + W.ACK.MAX_RECEIVER_NAME_BYTES))
    return string.format("ACK %s #%u (malformed)", h.topic, h.SEQUENCE)
  end
  tree:add(F.receiver_session, tvb(payload_at + W.ACK.RECEIVER_OFFSET, 4))
  local name_length = payload_length - W.ACK.NAME_OFFSET
  local name = ""
  if name_length > 0 then
    local range = tvb(payload_at + W.ACK.NAME_OFFSET, name_length)
    name = range:string(ENC_UTF_8)
    tree:add(F.ack_receiver, range, name)
  end
  return string.format("ACK %s #%u from %s", h.topic, h.SEQUENCE, name)
end

local function dissect_nack(tvb, h, pinfo, tree, payload_at, payload_length)
  local range_bytes = payload_length - W.NACK.RANGES_OFFSET
  local ranges = range_bytes / W.NACK.RANGE_BYTES
  if range_bytes < W.NACK.RANGE_BYTES or range_bytes % W.NACK.RANGE_BYTES ~= 0 or ranges > W.NACK.MAX_RANGES then
    bad_payload(tree, string.format("bad-nack: %d payload bytes is not 4 + 4k (1 <= k <= %d)",
      payload_length, W.NACK.MAX_RANGES))
    return string.format("NACK %s #%u (malformed)", h.topic, h.SEQUENCE)
  end
  tree:add(F.receiver_session, tvb(payload_at, 4))
  local parts = {}
  for i = 0, ranges - 1 do
    local at = payload_at + W.NACK.RANGES_OFFSET + i * W.NACK.RANGE_BYTES
    local first, count = tvb(at, 2):uint(), tvb(at + 2, 2):uint()
    local whole = first == W.NACK.WHOLE_MESSAGE_FIRST and count == W.NACK.WHOLE_MESSAGE_COUNT
    local text = whole and "whole message" or
      (count == 1 and tostring(first) or string.format("%u-%u", first, first + count - 1))
    local item = tree:add(F.nack_range, tvb(at, W.NACK.RANGE_BYTES))
    item:set_text("Fragments: " .. text)
    item:add(F.nack_first, tvb(at, 2))
    item:add(F.nack_count, tvb(at + 2, 2))
    item:add(F.nack_whole, tvb(at, W.NACK.RANGE_BYTES), whole):set_generated()
    if count == 0 then bad_payload(item, "bad-nack: empty range") end
    parts[#parts + 1] = text
  end
  return string.format("NACK %s #%u fragments %s", h.topic, h.SEQUENCE, table.concat(parts, ", "))
end

local function dissect_nack_frames(tvb, h, pinfo, tree, payload_at, payload_length)
  local range_bytes = payload_length - W.NACK_FRAMES.RANGES_OFFSET
  local ranges = range_bytes / W.NACK_FRAMES.RANGE_BYTES
  if range_bytes < W.NACK_FRAMES.RANGE_BYTES or range_bytes % W.NACK_FRAMES.RANGE_BYTES ~= 0
      or ranges > W.NACK_FRAMES.MAX_RANGES then
    bad_payload(tree, string.format("bad-nack-frames: %d payload bytes is not 4 + 6k (1 <= k <= %d)",
      payload_length, W.NACK_FRAMES.MAX_RANGES))
    return string.format("NACK_FRAMES %s (malformed)", h.topic)
  end
  tree:add(F.receiver_session, tvb(payload_at, 4))
  local parts = {}
  for i = 0, ranges - 1 do
    local at = payload_at + W.NACK_FRAMES.RANGES_OFFSET + i * W.NACK_FRAMES.RANGE_BYTES
    local first, count = tvb(at, 4):uint(), tvb(at + 4, 2):uint()
    local last = (first + count - 1) % W.SEQUENCE_SPACE
    local text = count == 1 and string.format("#%u", first) or string.format("#%u-%u", first, last)
    local item = tree:add(F.nack_frames_range, tvb(at, W.NACK_FRAMES.RANGE_BYTES))
    item:set_text("Sequences: " .. text)
    item:add(F.nack_frames_first, tvb(at, 4))
    item:add(F.nack_frames_count, tvb(at + 4, 2))
    if count == 0 then bad_payload(item, "bad-nack-frames: empty range") end
    parts[#parts + 1] = text
  end
  return string.format("NACK_FRAMES %s %s", h.topic, table.concat(parts, ", "))
end

local function dissect_heartbeat(tvb, h, pinfo, tree, payload_at, payload_length)
  local parts = dissect_topic_entries(tvb, payload_at, payload_at + payload_length, tree, F.heartbeat_entry,
    F.heartbeat_topic, F.heartbeat_last, W.HEARTBEAT.MAX_ENTRIES, "bad-heartbeat", "last")
  if #parts == 0 then return string.format("HEARTBEAT #%u (announcement, no topics yet)", h.SEQUENCE) end
  return string.format("HEARTBEAT #%u: %s", h.SEQUENCE, table.concat(parts, ", "))
end

local function dissect_status(tvb, h, pinfo, tree, payload_at, payload_length)
  if payload_length < W.STATUS.ENTRIES_OFFSET then
    bad_payload(tree, string.format("bad-status: %d payload bytes, at least %d expected", payload_length,
      W.STATUS.ENTRIES_OFFSET))
    return string.format("STATUS #%u (malformed)", h.SEQUENCE)
  end
  tree:add(F.receiver_session, tvb(payload_at + W.STATUS.RECEIVER_OFFSET, 4))
  local window = tvb(payload_at + W.STATUS.WINDOW_OFFSET, 4)
  tree:add(F.status_window, window)
  local parts = dissect_topic_entries(tvb, payload_at + W.STATUS.ENTRIES_OFFSET, payload_at + payload_length,
    tree, F.status_entry, F.status_topic, F.status_next, W.STATUS.MAX_ENTRIES, "bad-status", "next")
  local about = #parts == 0 and "announcement, no topics yet" or table.concat(parts, ", ")
  return string.format("STATUS #%u window %u: %s", h.SEQUENCE, window:uint(), about)
end

-- SCHEMA: the topic is the type's full name, the fingerprint field its fingerprint, the payload its
-- binary FileDescriptorSet (or one fragment of it: fragments are not put together here).
local function dissect_schema(tvb, h, pinfo, tree, payload_at, payload_length)
  tree:add(F.schema_type, tvb(W.FIXED_HEADER_LENGTH, h.TOPIC_LENGTH), h.topic)
  learn_type(h.FINGERPRINT, h.topic, pinfo.number)
  if payload_length > 0 then tree:add(F.schema_set, tvb(payload_at, payload_length)) end
  if h.MESSAGE_LENGTH > W.SCHEMA.MAX_BYTES then
    bad_payload(tree, string.format("schema-too-large: %d bytes, at most %d", h.MESSAGE_LENGTH, W.SCHEMA.MAX_BYTES))
  end
  local part = h.FRAGMENT_COUNT > 1 and string.format(" fragment %u/%u", h.FRAGMENT_INDEX + 1, h.FRAGMENT_COUNT) or ""
  return string.format("SCHEMA %s %s #%u%s (%u bytes)", h.topic, hex32(h.FINGERPRINT), h.SEQUENCE, part,
    h.MESSAGE_LENGTH)
end

-- SCHEMA_REQUEST: the topic and session of the stream whose type is unknown, the fingerprint asked for.
local function dissect_schema_request(tvb, h, pinfo, tree, payload_at, payload_length)
  if payload_length ~= W.SCHEMA.REQUEST_PAYLOAD_BYTES or h.FINGERPRINT == 0 or h.FRAGMENT_COUNT ~= 1 then
    bad_payload(tree, string.format("bad-schema-request: %d payload bytes (expected %d), fingerprint %s",
      payload_length, W.SCHEMA.REQUEST_PAYLOAD_BYTES, hex32(h.FINGERPRINT)))
    return string.format("SCHEMA_REQUEST %s (malformed)", h.topic)
  end
  tree:add(F.receiver_session, tvb(payload_at + W.SCHEMA.REQUEST_RECEIVER_OFFSET, 4))
  tree:add(F.schema_wanted, tvb(W.OFFSET.FINGERPRINT, 4)):set_generated()
  return string.format("SCHEMA_REQUEST %s for %s", h.topic, hex32(h.FINGERPRINT))
end
