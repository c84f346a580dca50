# gh-153578: bytearray.extend(obj) computes the append position, then runs
# obj.__buffer__ (Python-level buffer protocol, 3.12+) which shrinks the bytearray;
# the stale position leads to an out-of-bounds write / uninitialised bytes.
b = bytearray(b"x" * 100)
class Evil:
    def __buffer__(self, flags):
        b.clear()
        return memoryview(b"ABCDEFGH")
try:
    b.extend(Evil())
    print("len(b) =", len(b), "head =", bytes(b[:16]))
    if bytes(b) == b"ABCDEFGH":
        print("RESULT: CLOSED - result consistent (cleared, then appended)")
    else:
        print("RESULT: THROUGH - inconsistent bytearray after extend (OOB / stale bytes)")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
