-- ---------------------------------------------------------------------------------------------
-- The header: the fixed part (W.HEADER, in wire order), the topic and the extension. Shared by
-- whole datagrams and the inner frames of a BATCH.
-- ---------------------------------------------------------------------------------------------

local HEADER_FIELD = {
  MAGIC = F.magic, VERSION = F.version, KIND = F.kind, FLAGS = F.flags, HOPS = F.hops,
  TOPIC_LENGTH = F.topic_length, SESSION = F.session, SEQUENCE = F.sequence,
  FINGERPRINT = F.fingerprint, MESSAGE_LENGTH = F.message_length,
  FRAGMENT_OFFSET = F.fragment_offset, FRAGMENT_INDEX = F.fragment_index,
  FRAGMENT_COUNT = F.fragment_count, HEADER_LENGTH = F.header_length,
  PAYLOAD_LENGTH = F.payload_length,
}

local WIDTH = {}
for _, field in ipairs(W.HEADER) do WIDTH[field.name] = field.width end

-- The header field `name` of the frame at `offset`, as a TvbRange.
local function header_range(tvb, offset, name)
  return tvb(offset + W.OFFSET[name], WIDTH[name])
end

-- Whether `length` bytes of `tvb` from `offset` can be a Shoal frame: the magic, this version,
-- a topic, and a header length that fits. The heuristic's test, so it stays cheap.
local function looks_like_shoal(tvb, offset, length)
  if length < W.FIXED_HEADER_LENGTH + 1 then return false end
  if header_range(tvb, offset, "MAGIC"):uint() ~= W.MAGIC then return false end
  if header_range(tvb, offset, "VERSION"):uint() ~= W.WIRE_VERSION then return false end
  local topic_length = header_range(tvb, offset, "TOPIC_LENGTH"):uint()
  local header_length = header_range(tvb, offset, "HEADER_LENGTH"):uint()
  return topic_length >= 1 and header_length >= W.FIXED_HEADER_LENGTH + topic_length
    and header_length <= length
end

local FLAG = {}
for _, flag in ipairs(W.FLAGS) do FLAG[flag.name] = flag.bit end

-- The seal extension at `at` (WIRE.md "Sealing"): key id, the sealing side's random sender id and
-- the counter the nonce is made of. Readable without the key; the dissector has none.
local function dissect_seal(tvb, at, tree)
  local seal = tree:add(F.seal, tvb(at, W.SEAL.EXTENSION_LENGTH))
  local key_id = tvb(at + W.SEAL.KEY_ID, 4)
  seal:add(F.seal_key_id, key_id)
  seal:add(F.seal_sender, tvb(at + W.SEAL.SENDER, W.SEAL.SENDER_LENGTH))
  local counter = tvb(at + W.SEAL.COUNTER, W.SEAL.EXTENSION_LENGTH - W.SEAL.COUNTER)
  seal:add(F.seal_counter, counter)
  seal:set_text(string.format("Seal: key %u, sender %s, counter %s", key_id:uint(),
    tostring(tvb(at + W.SEAL.SENDER, W.SEAL.SENDER_LENGTH):bytes()):lower(), tostring(counter:uint64())))
end

-- Adds the header of the frame at `offset` (`length` bytes belong to it) to `tree`; returns its
-- values, or nil when it is malformed (with an expert info on `tree`).
local function dissect_header(tvb, offset, length, tree)
  local h = {}
  for _, field in ipairs(W.HEADER) do
    local range = tvb(offset + field.offset, field.width)
    local value = range:uint()
    h[field.name] = value
    local item = tree:add(HEADER_FIELD[field.name], range)
    if field.name == "FLAGS" then
      for _, flag_field in ipairs(FLAG_FIELDS) do item:add(flag_field, range) end
      local unknown = band(band(value, W.MUST_UNDERSTAND_FLAGS), bxor(W.KNOWN_FLAGS, 0xFFFF))
      if unknown ~= 0 then
        item:add(F.flags_unknown, range, unknown)
        item:add_proto_expert_info(E.unsupported_flags,
          string.format("Must-understand flags 0x%04x: a v1 receiver drops this frame (unsupported-flags)", unknown))
      end
    elseif field.name == "KIND" and KIND_NAMES[value] == nil then
      item:add_proto_expert_info(E.unknown_kind)
    elseif field.name == "FINGERPRINT" and value ~= 0 then
      local name, schema_frame = type_name(value)
      if name then
        tree:add(F.type, range, name):set_generated()
        if schema_frame then tree:add(F.type_schema_frame, range, schema_frame):set_generated() end
      end
    end
  end
  local topic_length, header_length = h.TOPIC_LENGTH, h.HEADER_LENGTH
  local topic_end = W.FIXED_HEADER_LENGTH + topic_length
  if topic_length < 1 or header_length < topic_end or header_length > length then
    tree:add_proto_expert_info(E.bad_header, string.format(
      "Header length %d does not hold the fixed header and a %d-byte topic within %d bytes",
      header_length, topic_length, length))
    return nil
  end
  local topic_range = tvb(offset + W.OFFSET.TOPIC, topic_length)
  h.topic = topic_range:string(ENC_UTF_8)
  tree:add(F.topic, topic_range, h.topic)
  local extension_at = topic_end
  h.sealed = band(h.FLAGS, FLAG.AUTHENTICATED) ~= 0
  h.encrypted = band(h.FLAGS, FLAG.ENCRYPTED) ~= 0
  if h.sealed and header_length - topic_end >= W.SEAL.EXTENSION_LENGTH then
    extension_at = topic_end + W.SEAL.EXTENSION_LENGTH
    dissect_seal(tvb, offset + topic_end, tree)
  elseif h.sealed or h.encrypted then
    h.bad_seal = true
    tree:add_proto_expert_info(E.bad_seal, h.sealed
      and string.format("AUTHENTICATED, but a %d-byte header extension has no room for the %d-byte seal",
        header_length - topic_end, W.SEAL.EXTENSION_LENGTH)
      or "ENCRYPTED without AUTHENTICATED")
  end
  if header_length > extension_at then
    local extension = tvb(offset + extension_at, header_length - extension_at)
    local item = tree:add(F.extension, extension)
    if h.KIND == W.KIND.NACK or h.KIND == W.KIND.NACK_FRAMES then
      item:append_text(" (padding: a NACK's length sets what it may be answered with)")
    end
  end
  h.kind_name = KIND_NAMES[h.KIND] or string.format("kind %d", h.KIND)
  return h
end
