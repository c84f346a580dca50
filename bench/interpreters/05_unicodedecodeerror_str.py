# UnicodeDecodeError.__str__ trusting .start/.end/.object (cf. gh-123378).
# (a) bytes object, start=-8,end=-7: str() reports a byte 8 bytes *before* the
#     bytes data (the cached ob_shash field) -> compare with hash(obj).
# (b) .object = a float: str() reads the float's fields as if it were bytes.
# (c) start far negative -> read of unmapped memory.
import sys
class U(UnicodeDecodeError):
    pass
through = []
def probe(label, obj, start):
    u = U("utf-8", b"abc", 0, 1, "boom")
    try:
        u.object = obj
        u.start = start
        u.end = start + 1
    except Exception as e:
        print(label, "setting fields refused:", type(e).__name__, e); return None
    try:
        s = str(u)
    except Exception as e:
        print(label, "str() raised:", type(e).__name__, e); return None
    print(label, "str() ->", repr(s), flush=True)
    return s
data = b"Hello-World-secret"
h = hash(data)
s = probe("(a) bytes start=-8:", data, -8)
if s and "0x" in s:
    b = int(s.split("0x")[1][:2], 16)
    print("    reported byte 0x%02x ; low byte of hash(obj) = 0x%02x" % (b, h & 0xff))
    if b == (h & 0xff):
        through.append("read bytes->ob_shash at negative offset")
s = probe("(b) float object start=-8:", 1.5, -8)
if s and "0x" in s:
    through.append("treated float as bytes")
s = probe("(b2) dict object start=-8:", {"k": 1}, -8)
if s and "0x" in s:
    through.append("treated dict as bytes")
if through:
    print("about to probe far-negative offset", flush=True)
s = probe("(c) bytes start=-2**40:", data, -(2**40))
if through:
    print("RESULT: THROUGH -", "; ".join(through))
else:
    print("RESULT: CLOSED - no out-of-bounds byte reported")
