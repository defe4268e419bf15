-- ---------------------------------------------------------------------------------------------
-- DATA and BATCH: the messages, handed to Wireshark's Protobuf dissector by type fingerprint
-- ("message,<full name>" in pinfo.private.pb_msg_type, as the Protobuf dissector documents).
-- ---------------------------------------------------------------------------------------------

local protobuf_dissector = Dissector.get("protobuf")
local data_dissector = Dissector.get("data")

-- Decodes one whole message (`message_tvb`) of type `fingerprint` under `tree`.
local function decode_message(message_tvb, fingerprint, pinfo, tree)
  local name = type_name(fingerprint)
  if name == nil then
    tree:add_proto_expert_info(E.unknown_type, string.format(
      "Type fingerprint %s is not in this dissector's schema, nor named by a SCHEMA frame of this capture",
      hex32(fingerprint)))
  end
  if name == nil or not shoal.prefs.protobuf then
    data_dissector:call(message_tvb, pinfo, tree)
    return
  end
  pinfo.private["pb_msg_type"] = "message," .. name
  local ok = pcall(Dissector.call, protobuf_dissector, message_tvb, pinfo, tree)
  if not ok then data_dissector:call(message_tvb, pinfo, tree) end
end

local function type_label(fingerprint)
  return type_name(fingerprint) or hex32(fingerprint)
end

local function fragment_label(h)
  return string.format("DATA %s #%u fragment %u/%u %s", h.topic, h.SEQUENCE, h.FRAGMENT_INDEX + 1,
    h.FRAGMENT_COUNT, type_label(h.FINGERPRINT))
end

-- A fragment: `length` bytes of its message at `payload_at`.
local function show_fragment(tvb, h, pinfo, tree, payload_at, length)
  local label = fragment_label(h)
  if not shoal.prefs.reassemble then
    tree:add(F.fragment_status, tvb(payload_at, length), FRAGMENT_STATE.OFF):set_generated()
    return label
  end
  if not pinfo.visited then add_fragment(tvb, h, pinfo, payload_at, length) end
  local note, completed = fragment_note(pinfo.number)
  if note == nil then return label end
  local status_item = tree:add(F.fragment_status, tvb(payload_at, length), note.status)
  status_item:set_generated()
  if note.status >= FRAGMENT_STATE.MISMATCH then status_item:add_proto_expert_info(E.fragment) end
  if completed ~= nil and completed ~= pinfo.number then
    tree:add(F.fragment_reassembled_in, tvb(payload_at, 0), completed):set_generated()
  end
  if note.status ~= FRAGMENT_STATE.COMPLETED then return label end
  if note.message == nil then
    status_item:append_text(string.format(" (bytes no longer kept: over %d reassembled bytes)",
      REASSEMBLED_KEEP_BYTES))
    return label
  end
  local message_tvb = note.message:tvb("Reassembled Shoal message")
  local item = tree:add(F.reassembled_length, message_tvb(), note.message:len())
  item:set_text(string.format("Reassembled message: %u bytes in %u fragments", note.message:len(), #note.frames))
  for _, frame in ipairs(note.frames) do item:add(F.reassembled_frame, message_tvb(0, 0), frame) end
  decode_message(message_tvb, h.FINGERPRINT, pinfo, tree)
  return label .. string.format(" [reassembled %u bytes]", note.message:len())
end

local function dissect_data(tvb, h, pinfo, tree, payload_at, payload_length)
  if h.FRAGMENT_COUNT > 1 then return show_fragment(tvb, h, pinfo, tree, payload_at, payload_length) end
  decode_message(tvb(payload_at, payload_length):tvb(), h.FINGERPRINT, pinfo, tree)
  return string.format("DATA %s #%u %s", h.topic, h.SEQUENCE, type_label(h.FINGERPRINT))
end

-- ( u16 length L · inner DATA frame of L bytes, without CRC )*
local function dissect_batch(tvb, h, pinfo, tree, payload_at, payload_length)
  local at, stop, count, topics, order = payload_at, payload_at + payload_length, 0, {}, {}
  while at < stop do
    if at + W.BATCH.LENGTH_PREFIX > stop then
      tree:add_proto_expert_info(E.bad_batch, "bad-batch: a partial length prefix")
      break
    end
    local length = tvb(at, W.BATCH.LENGTH_PREFIX):uint()
    local inner_at = at + W.BATCH.LENGTH_PREFIX
    if inner_at + length > stop or not looks_like_shoal(tvb, inner_at, length) then
      tree:add_proto_expert_info(E.bad_batch, string.format(
        "bad-batch: entry %d (%d bytes) is not a whole frame; the rest of the batch is dropped", count + 1, length))
      break
    end
    local entry = tree:add(F.batch_entry, tvb(at, W.BATCH.LENGTH_PREFIX + length))
    entry:add(F.batch_entry_length, tvb(at, W.BATCH.LENGTH_PREFIX))
    local inner = dissect_header(tvb, inner_at, length, entry)
    if inner == nil then break end
    local inner_payload_at = inner_at + inner.HEADER_LENGTH
    if inner.HEADER_LENGTH + inner.PAYLOAD_LENGTH ~= length or inner.KIND ~= W.KIND.DATA
        or inner.FRAGMENT_COUNT ~= 1 then
      entry:add_proto_expert_info(E.bad_batch,
        "bad-batch: an entry is one whole DATA frame of header length + payload length bytes")
      break
    end
    count = count + 1
    entry:set_text(string.format("Inner frame %d: %s #%u %s", count, inner.topic, inner.SEQUENCE,
      type_label(inner.FINGERPRINT)))
    decode_message(tvb(inner_payload_at, inner.PAYLOAD_LENGTH):tvb(), inner.FINGERPRINT, pinfo, entry)
    if topics[inner.topic] == nil then order[#order + 1] = inner.topic end
    topics[inner.topic] = (topics[inner.topic] or 0) + 1
    at = inner_at + length
  end
  tree:add(F.batch_frames, tvb(payload_at, payload_length), count):set_generated()
  local parts = {}
  for _, topic in ipairs(order) do parts[#parts + 1] = string.format("%s x%d", topic, topics[topic]) end
  return string.format("BATCH #%u: %d frame%s (%s)", h.SEQUENCE, count, count == 1 and "" or "s",
    table.concat(parts, ", "))
end

-- A sealed frame's encrypted payload (any kind): shown as ciphertext, its header's story in Info.
local function dissect_encrypted(tvb, h, pinfo, tree, payload_at, payload_length)
  local item = tree:add(F.seal_ciphertext, tvb(payload_at, payload_length))
  item:add_proto_expert_info(E.encrypted)
  if h.KIND == W.KIND.DATA and h.FRAGMENT_COUNT > 1 then
    tree:add(F.fragment_status, tvb(payload_at, payload_length), FRAGMENT_STATE.ENCRYPTED):set_generated()
    return fragment_label(h) .. " [encrypted]"
  elseif h.KIND == W.KIND.DATA then
    return string.format("DATA %s #%u %s [encrypted]", h.topic, h.SEQUENCE, type_label(h.FINGERPRINT))
  end
  return string.format("%s %s #%u [encrypted]", h.kind_name, h.topic, h.SEQUENCE)
end
