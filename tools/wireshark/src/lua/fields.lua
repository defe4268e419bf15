-- ---------------------------------------------------------------------------------------------
-- The protocol, its fields, expert infos and preferences. Field names follow the wire names of
-- WIRE.md; every field is filterable as `shoal.<name>` (e.g. `shoal.topic == "imu"`).
-- ---------------------------------------------------------------------------------------------

local function version_at_least(major, minor)
  local got_major, got_minor = get_version():match("^(%d+)%.(%d+)")
  got_major, got_minor = tonumber(got_major), tonumber(got_minor)
  return got_major > major or (got_major == major and got_minor >= minor)
end
if not version_at_least(MIN_WIRESHARK[1], MIN_WIRESHARK[2]) then
  error(string.format("shoal.lua needs Wireshark %d.%d or later (this is %s)",
    MIN_WIRESHARK[1], MIN_WIRESHARK[2], get_version()))
end

local shoal = Proto("shoal", "Shoal sensor frames")

local KIND_NAMES = {}
for _, kind in ipairs(W.KINDS) do KIND_NAMES[kind.value] = kind.name end

-- Type names by fingerprint for display; 0 is what control frames carry.
local TYPE_NAMES = { [0] = "none" }
for fingerprint, name in pairs(TYPES) do TYPE_NAMES[fingerprint] = name end

-- Types not in TYPES (added with --proto, learned in-band) named by the SCHEMA frames of this
-- capture: fingerprint -> { name, frame }. The first SCHEMA seen for a fingerprint names it (its
-- descriptor set is not checked against the fingerprint here); a built-in name always wins. At most
-- MAX_LEARNED_TYPES; forgotten when the capture is dissected anew.
local MAX_LEARNED_TYPES = 1024
local learned, learned_count = {}, 0

local function reset_learned()
  learned, learned_count = {}, 0
end

local function learn_type(fingerprint, name, frame)
  if fingerprint == 0 or TYPES[fingerprint] ~= nil or learned[fingerprint] ~= nil then return end
  if learned_count >= MAX_LEARNED_TYPES or not name:match("^[%a_][%w_.]*$") then return end
  learned[fingerprint] = { name = name, frame = frame }
  learned_count = learned_count + 1
end

-- The full name of type `fingerprint`, and the frame of the SCHEMA that named it (nil: built in).
local function type_name(fingerprint)
  local name = TYPES[fingerprint]
  if name ~= nil then return name, nil end
  local entry = learned[fingerprint]
  if entry == nil then return nil, nil end
  return entry.name, entry.frame
end

-- What became of a fragment in reassembly, as shown and filtered (`shoal.fragment.status`).
local FRAGMENT_STATE = { HELD = 0, COMPLETED = 1, DUPLICATE = 2, LATE = 3, MISMATCH = 4, TOO_LARGE = 5,
  BAD_GEOMETRY = 6, OFF = 7, ENCRYPTED = 8 }
local FRAGMENT_STATE_TEXT = {
  [FRAGMENT_STATE.HELD] = "held: waiting for the other fragments",
  [FRAGMENT_STATE.COMPLETED] = "completed its message",
  [FRAGMENT_STATE.DUPLICATE] = "duplicate: this fragment index was already held",
  [FRAGMENT_STATE.LATE] = "late duplicate: its message was already reassembled",
  [FRAGMENT_STATE.MISMATCH] = "not reassembled: disagrees with the first fragment seen (fragment-mismatch)",
  [FRAGMENT_STATE.TOO_LARGE] = "not reassembled: message over the reassembly cap (too-large)",
  [FRAGMENT_STATE.BAD_GEOMETRY] = "not reassembled: outside its message's geometry (fragment-mismatch)",
  [FRAGMENT_STATE.OFF] = "reassembly off (preference)",
  [FRAGMENT_STATE.ENCRYPTED] = "not reassembled: encrypted (the dissector has no key)",
}

local F = {
  magic = ProtoField.uint16("shoal.magic", "Magic", base.HEX),
  version = ProtoField.uint8("shoal.version", "Version", base.DEC),
  kind = ProtoField.uint8("shoal.kind", "Kind", base.DEC, KIND_NAMES),
  flags = ProtoField.uint16("shoal.flags", "Flags", base.HEX),
  flags_unknown = ProtoField.uint16("shoal.flags.unknown_must_understand",
    "Must-understand flags this version does not know", base.HEX),
  hops = ProtoField.uint8("shoal.hops", "Hop count", base.DEC),
  topic_length = ProtoField.uint8("shoal.topic_length", "Topic length", base.DEC),
  session = ProtoField.uint32("shoal.session", "Session id", base.HEX),
  sequence = ProtoField.uint32("shoal.sequence", "Sequence", base.DEC),
  fingerprint = ProtoField.uint32("shoal.fingerprint", "Type fingerprint", base.HEX, TYPE_NAMES),
  type = ProtoField.string("shoal.type", "Message type"),
  type_schema_frame = ProtoField.framenum("shoal.type.schema_frame", "Type named by the SCHEMA in frame"),
  message_length = ProtoField.uint32("shoal.message_length", "Message length", base.DEC),
  fragment_offset = ProtoField.uint32("shoal.fragment_offset", "Fragment offset", base.DEC),
  fragment_index = ProtoField.uint16("shoal.fragment_index", "Fragment index", base.DEC),
  fragment_count = ProtoField.uint16("shoal.fragment_count", "Fragment count", base.DEC),
  header_length = ProtoField.uint16("shoal.header_length", "Header length", base.DEC),
  payload_length = ProtoField.uint16("shoal.payload_length", "Payload length", base.DEC),
  topic = ProtoField.string("shoal.topic", "Topic"),
  extension = ProtoField.bytes("shoal.extension", "Header extension"),
  payload = ProtoField.bytes("shoal.payload", "Payload"),
  crc = ProtoField.uint32("shoal.crc", "CRC-32", base.HEX),
  crc_good = ProtoField.bool("shoal.crc.good", "CRC-32 good"),
  crc_computed = ProtoField.uint32("shoal.crc.computed", "CRC-32 computed", base.HEX),

  seal = ProtoField.none("shoal.seal", "Seal"),
  seal_key_id = ProtoField.uint32("shoal.seal.key_id", "Key id", base.DEC),
  seal_sender = ProtoField.bytes("shoal.seal.sender", "Sender id"),
  seal_counter = ProtoField.uint64("shoal.seal.counter", "Counter", base.DEC),
  seal_tag = ProtoField.bytes("shoal.seal.tag", "AEAD tag"),
  seal_ciphertext = ProtoField.bytes("shoal.seal.ciphertext", "Ciphertext"),

  batch_frames = ProtoField.uint16("shoal.batch.frames", "Frames in the batch", base.DEC),
  batch_entry = ProtoField.none("shoal.batch.entry", "Inner frame"),
  batch_entry_length = ProtoField.uint16("shoal.batch.entry_length", "Inner frame length", base.DEC),

  receiver_session = ProtoField.uint32("shoal.receiver_session", "Receiver session id", base.HEX),

  schema_type = ProtoField.string("shoal.schema.type", "Type announced"),
  schema_set = ProtoField.bytes("shoal.schema.descriptor_set", "FileDescriptorSet (or a fragment of it)"),
  schema_wanted = ProtoField.uint32("shoal.schema.wanted", "Fingerprint asked for", base.HEX, TYPE_NAMES),
  ack_receiver = ProtoField.string("shoal.ack.receiver", "Receiver name"),

  nack_range = ProtoField.none("shoal.nack.range", "Fragment range"),
  nack_first = ProtoField.uint16("shoal.nack.first", "First fragment", base.DEC),
  nack_count = ProtoField.uint16("shoal.nack.count", "Fragments", base.DEC),
  nack_whole = ProtoField.bool("shoal.nack.whole_message", "Whole message"),

  nack_frames_range = ProtoField.none("shoal.nack_frames.range", "Sequence range"),
  nack_frames_first = ProtoField.uint32("shoal.nack_frames.first", "First sequence", base.DEC),
  nack_frames_count = ProtoField.uint16("shoal.nack_frames.count", "Sequences", base.DEC),

  heartbeat_entry = ProtoField.none("shoal.heartbeat.entry", "Topic"),
  heartbeat_topic = ProtoField.string("shoal.heartbeat.topic", "Topic"),
  heartbeat_last = ProtoField.uint32("shoal.heartbeat.last_sequence", "Last sequence sent", base.DEC),

  status_window = ProtoField.uint32("shoal.status.window", "Window (bytes)", base.DEC),
  status_entry = ProtoField.none("shoal.status.entry", "Topic"),
  status_topic = ProtoField.string("shoal.status.topic", "Topic"),
  status_next = ProtoField.uint32("shoal.status.next_sequence", "Next sequence", base.DEC),

  entry_topic_length = ProtoField.uint8("shoal.entry.topic_length", "Topic length", base.DEC),

  fragment_status = ProtoField.uint8("shoal.fragment.status", "Reassembly", base.DEC, FRAGMENT_STATE_TEXT),
  fragment_reassembled_in = ProtoField.framenum("shoal.fragment.reassembled_in", "Reassembled in"),
  reassembled_length = ProtoField.uint32("shoal.reassembled.length", "Reassembled message length", base.DEC),
  reassembled_frame = ProtoField.framenum("shoal.reassembled.frame", "Fragment in frame"),
}

-- One boolean per flag bit the wire constants name (generated table W.FLAGS).
local FLAG_FIELDS = {}
for _, flag in ipairs(W.FLAGS) do
  local field = ProtoField.bool("shoal.flags." .. flag.name:lower(), flag.name, 16, nil, flag.bit)
  FLAG_FIELDS[#FLAG_FIELDS + 1] = field
  F["flag_" .. flag.name:lower()] = field
end

local field_list = {}
for _, field in pairs(F) do field_list[#field_list + 1] = field end
shoal.fields = field_list

-- Expert infos, named after the receivers' drop reasons in WIRE.md where there is one.
local E = {
  bad_crc = ProtoExpert.new("shoal.expert.bad_crc", "CRC-32 mismatch (bad-crc)",
    expert.group.CHECKSUM, expert.severity.ERROR),
  truncated = ProtoExpert.new("shoal.expert.truncated", "Datagram shorter than its header says (truncated)",
    expert.group.MALFORMED, expert.severity.ERROR),
  bad_length = ProtoExpert.new("shoal.expert.bad_length", "Datagram longer than its header says (bad-length)",
    expert.group.MALFORMED, expert.severity.ERROR),
  bad_header = ProtoExpert.new("shoal.expert.bad_header", "Malformed header (bad-header)",
    expert.group.MALFORMED, expert.severity.ERROR),
  unknown_kind = ProtoExpert.new("shoal.expert.unknown_kind", "Kind unknown to this dissector (unknown-kind)",
    expert.group.UNDECODED, expert.severity.WARN),
  unsupported_flags = ProtoExpert.new("shoal.expert.unsupported_flags",
    "Must-understand flag this version does not implement (unsupported-flags)",
    expert.group.PROTOCOL, expert.severity.WARN),
  bad_payload = ProtoExpert.new("shoal.expert.bad_payload", "Malformed control payload",
    expert.group.MALFORMED, expert.severity.ERROR),
  bad_batch = ProtoExpert.new("shoal.expert.bad_batch", "Malformed batch entry (bad-batch)",
    expert.group.MALFORMED, expert.severity.ERROR),
  unknown_type = ProtoExpert.new("shoal.expert.unknown_type",
    "Type fingerprint not in the schema this dissector was generated from",
    expert.group.UNDECODED, expert.severity.NOTE),
  fragment = ProtoExpert.new("shoal.expert.fragment", "Fragment not reassembled",
    expert.group.REASSEMBLE, expert.severity.NOTE),
  bad_seal = ProtoExpert.new("shoal.expert.bad_seal", "Sealed frame without room for its seal or tag",
    expert.group.MALFORMED, expert.severity.ERROR),
  encrypted = ProtoExpert.new("shoal.expert.encrypted",
    "Encrypted payload: it opens only with the group key, which this dissector does not have",
    expert.group.UNDECODED, expert.severity.NOTE),
}
shoal.experts = { E.bad_crc, E.truncated, E.bad_length, E.bad_header, E.unknown_kind, E.unsupported_flags,
  E.bad_payload, E.bad_batch, E.unknown_type, E.fragment, E.bad_seal, E.encrypted }

shoal.prefs.check_crc = Pref.bool("Validate the CRC-32", true,
  "Compute each datagram's CRC-32 and flag mismatches (costs time on large captures)")
shoal.prefs.reassemble = Pref.bool("Reassemble fragmented messages", true,
  "Keep fragments' bytes to decode each message once its last fragment arrives")
shoal.prefs.protobuf = Pref.bool("Decode payloads with the Protobuf dissector", true,
  "Hand each message to Wireshark's Protobuf dissector by its type fingerprint (set the Protobuf search paths to Shoal's proto directory)")
