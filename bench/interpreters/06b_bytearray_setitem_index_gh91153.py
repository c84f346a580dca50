# gh-91153 (second half, fixed 2025 by gh-132379): bytearray.__setitem__ fetches its
# buffer pointer *before* calling the value's __index__; an __index__ that grows the
# bytearray reallocates the buffer and the byte is written into the freed old buffer.
ba = bytearray(b"\x00" * 8)
class Evil:
    def __index__(self):
        ba.extend(b"\x00" * 100000)   # force realloc to a new buffer
        return 65
ba[0] = Evil()
print("ba[0] after assignment =", ba[0], "len =", len(ba))
if ba[0] != 65:
    print("RESULT: THROUGH - write went to the stale (freed) buffer; ba[0] != 65")
else:
    print("RESULT: CLOSED - value written to the live buffer")
