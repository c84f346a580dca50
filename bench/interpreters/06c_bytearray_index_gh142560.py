# gh-142560: bytearray.index(x) captures the buffer pointer/length, then x.__index__
# clears the bytearray; the search then runs over freed memory.
victim = bytearray(b"B" * 24 + b"A")
class Evil:
    def __index__(self):
        victim.clear()
        return 65   # 'A'
try:
    r = victim.index(Evil())
    print("index() ->", r, "but len(victim) =", len(victim))
    print("RESULT: THROUGH - found a byte in an EMPTY bytearray (read of freed memory)")
except ValueError as e:
    print("RESULT: CLOSED - ValueError:", e)
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
