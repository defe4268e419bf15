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

-- Two bytes per step: the register's low 16 bits after two zero bytes (the CRC is linear, so a
-- step over bytes b1, b2 is CRC_TABLE16[(crc ~ (b1 | b2 << 8)) & 0xFFFF] ~ (crc >> 16)). Half the
-- bit operations of a byte-wise loop, whose cost is the calls to them on Lua 5.2; 64 Ki entries.
local CRC_TABLE16 = {}
for i = 0, 0xFFFF do
  local c = bxor(CRC_TABLE[band(i, 0xFF)], rshift(i, 8))
  CRC_TABLE16[i] = bxor(CRC_TABLE[band(c, 0xFF)], rshift(c, 8))
end

-- Bytes read from the string per call (string.byte returns them all at once): a multiple of 2.
local CRC_CHUNK = 16

-- The CRC-32 of `length` bytes of `tvb` from `offset`.
local function crc32(tvb, offset, length)
  local bytes = tvb:raw(offset, length)
  local crc = 0xFFFFFFFF
  local i, whole = 1, length - length % CRC_CHUNK
  while i <= whole do
    local a1, a2, b1, b2, c1, c2, d1, d2, e1, e2, f1, f2, g1, g2, h1, h2 = bytes:byte(i, i + CRC_CHUNK - 1)
    crc = bxor(CRC_TABLE16[band(bxor(crc, a1 + a2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, b1 + b2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, c1 + c2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, d1 + d2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, e1 + e2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, f1 + f2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, g1 + g2 * 256), 0xFFFF)], rshift(crc, 16))
    crc = bxor(CRC_TABLE16[band(bxor(crc, h1 + h2 * 256), 0xFFFF)], rshift(crc, 16))
    i = i + CRC_CHUNK
  end
  for j = i, length do
    crc = bxor(CRC_TABLE[band(bxor(crc, bytes:byte(j)), 0xFF)], rshift(crc, 8))
  end
  return bxor(crc, 0xFFFFFFFF)
end

local function hex32(n)
  return string.format("0x%08x", n)
end
