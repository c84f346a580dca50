# gh-154672 (sibling of gh-142732): zip_longest(filter(None, CustomIter([...Evil...]))):
# Evil.__bool__ re-enters the zip_longest and drains the filter; zip_longest frees the
# filter (tuple held the only ref) while the outer filter_next is still using it.
import itertools, gc
zl_ref = [None]
class CustomIter:
    def __init__(self, data):
        self.data = data; self.idx = 0
    def __iter__(self): return self
    def __next__(self):
        if self.idx >= len(self.data):
            raise StopIteration
        v = self.data[self.idx]; self.idx += 1
        return v
class Evil:
    armed = True
    def __bool__(self):
        if Evil.armed and zl_ref[0] is not None:
            Evil.armed = False
            try:
                while True:
                    next(zl_ref[0])
            except StopIteration:
                pass
            gc.collect()
            junk = [CustomIter([i]) for i in range(1000)]   # try to reuse freed memory
        return True
zl_ref[0] = itertools.zip_longest(filter(None, CustomIter([Evil(), 1, 2, 3])), itertools.repeat(None, 2))
try:
    out = list(zl_ref[0])
    print("list() ->", out)
    print("RESULT: CLOSED? - no crash observed")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
