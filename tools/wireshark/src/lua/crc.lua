-- ---------------------------------------------------------------------------------------------
-- CRC-32 (IEEE 802.3, zlib's crc32), as the trailer of every datagram. Lua 5.2 (Wireshark up to
-- 4.4) has bit32; Lua 5.3+ has native bitwise operators, compiled only where bit32 is missing so
-- that 5.2 never parses them.
-- ---------------------------------------------------------------------------------------------

local band, bxor, rshift
if bit32 then
  band, bxor, rshift = bit32.band, bit32.bxor, bit32.rshift
else
  band, bxor, rshift = load([[return
    function(a, b) return a & b end,
    function(a, b) return a ~ b end,
    function(a, n) return a >> n end]])()
end

local CRC_POLYNOMIAL = 0xEDB88320 -- reflected IEEE 802.3
local CRC_TABLE = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if band(c, 1) == 1 then c = bxor(CRC_POLYNOMIAL, rshift(c, 1)) else c = rshift(c, 1) end
  end
  CRC_TABLE[i] = c
end

-- The CRC-32 of `length` bytes of `tvb` from `offset`.
local function crc32(tvb, offset, length)
  local bytes = tvb:raw(offset, length)
  local crc = 0xFFFFFFFF
  for i = 1, #bytes do
    crc = bxor(rshift(crc, 8), CRC_TABLE[band(bxor(crc, bytes:byte(i)), 0xFF)])
  end
  return bxor(crc, 0xFFFFFFFF)
end

local function hex32(n)
  return string.format("0x%08x", n)
end
