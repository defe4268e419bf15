-- ---------------------------------------------------------------------------------------------
-- The dissector: header, CRC, the payload by kind; registered as a UDP heuristic (any port) and
-- for Decode As.
-- ---------------------------------------------------------------------------------------------

-- One payload reader per frame kind. A kind without one shows its payload as bytes.
local PAYLOAD_DISSECTORS = {
  [W.KIND.DATA] = dissect_data,
  [W.KIND.ACK] = dissect_ack,
  [W.KIND.NACK] = dissect_nack,
  [W.KIND.HEARTBEAT] = dissect_heartbeat,
  [W.KIND.BATCH] = dissect_batch,
  [W.KIND.STATUS] = dissect_status,
  [W.KIND.NACK_FRAMES] = dissect_nack_frames,
  [W.KIND.SCHEMA] = dissect_schema,
  [W.KIND.SCHEMA_REQUEST] = dissect_schema_request,
}

local function dissect_crc(tvb, h, tree, crc_at)
  local range = tvb(crc_at, W.CRC_LENGTH)
  local item = tree:add(F.crc, range)
  if not shoal.prefs.check_crc then return end
  local computed = crc32(tvb, 0, crc_at)
  local good = computed == range:uint()
  item:add(F.crc_good, range, good):set_generated()
  if good then
    item:append_text(" [correct]")
  else
    item:add(F.crc_computed, range, computed):set_generated()
    item:append_text(string.format(" [incorrect, should be %s]", hex32(computed)))
    item:add_proto_expert_info(E.bad_crc)
  end
end

local function dissect(tvb, pinfo, tree)
  local length = tvb:len()
  if not looks_like_shoal(tvb, 0, length) then return 0 end
  local root = tree:add(shoal, tvb())
  local h = dissect_header(tvb, 0, length, root)
  pinfo.cols.protocol = "Shoal"
  if h == nil then
    pinfo.cols.info = "Shoal: malformed header"
    return length
  end
  local payload_at, payload_length = h.HEADER_LENGTH, h.PAYLOAD_LENGTH
  local crc_at = payload_at + payload_length
  local whole = crc_at + W.CRC_LENGTH
  if whole > length then
    root:add_proto_expert_info(E.truncated, string.format("Header says %d bytes, datagram has %d", whole, length))
    payload_length = math.max(0, length - payload_at)
  elseif whole < length then
    root:add_proto_expert_info(E.bad_length, string.format("Header says %d bytes, datagram has %d", whole, length))
  end
  local payload_tree = root:add(F.payload, tvb(payload_at, payload_length))
  -- A sealed frame's payload ends with the AEAD tag (counted in its length).
  local body_length, readable = payload_length, whole <= length and not h.bad_seal
  if readable and h.sealed then
    if payload_length < W.SEAL.TAG_LENGTH then
      root:add_proto_expert_info(E.bad_seal, string.format("a %d-byte payload has no room for the %d-byte tag",
        payload_length, W.SEAL.TAG_LENGTH))
      readable = false
    else
      body_length = payload_length - W.SEAL.TAG_LENGTH
      root:add(F.seal_tag, tvb(payload_at + body_length, W.SEAL.TAG_LENGTH)):append_text(" (not verified: no key)")
    end
  end
  local info
  local payload_dissector = PAYLOAD_DISSECTORS[h.KIND]
  if readable and h.encrypted then
    info = dissect_encrypted(tvb, h, pinfo, payload_tree, payload_at, body_length)
  elseif readable and payload_dissector then
    info = payload_dissector(tvb, h, pinfo, payload_tree, payload_at, body_length)
  else
    info = string.format("%s %s #%u", h.kind_name, h.topic, h.SEQUENCE)
  end
  if h.sealed and not h.encrypted then info = info .. " [authenticated]" end
  if whole <= length then dissect_crc(tvb, h, root, crc_at) end
  root:append_text(string.format(", %s, %s, Session %s, Seq %u", h.kind_name, h.topic, hex32(h.SESSION), h.SEQUENCE))
  -- The Protobuf dissector writes its own name and message into the columns: ours go last.
  pinfo.cols.protocol = "Shoal"
  pinfo.cols.info = info
  return length
end

shoal.dissector = dissect
shoal.init = function()
  reset_reassembly()
  reset_learned()
end

local function heuristic(tvb, pinfo, tree)
  if not looks_like_shoal(tvb, 0, tvb:len()) then return false end
  dissect(tvb, pinfo, tree)
  return true
end
shoal:register_heuristic("udp", heuristic)
DissectorTable.get("udp.port"):add_for_decode_as(shoal)
