# Controls: long-fixed mutate-during-C-operation bugs; all versions should be CLOSED.
#  - list.index/count/remove/`in` with __eq__ clearing the list (bpo-38588/bpo-38610, fixed 3.9)
#  - dict lookup where __eq__ mutates the dict (bpo-14?/classic; dict restarts lookup)
#  - heapq with __lt__ clearing the heap (bpo-35? / fixed ~3.7: "list changed size during iteration")
#  - list.sort / sorted key mutating the list ("list modified during sort")
import heapq, os, sys
bad = []
dead = set()
def alias_check(name, leaked, cls):
    if any(leaked):
        bad.append(name)
for meth in ("index", "count", "remove", "__contains__"):
    leaked = []
    dead.clear()   # ids are only meaningful within one trial
    class Evil:
        def __del__(self): dead.add(id(self))
        def __eq__(self, o):
            L.clear(); return NotImplemented
    class Catch:
        def __eq__(self, o):
            leaked.append(id(o) in dead); return False
    L = [Evil()]
    try:
        getattr(L, meth)(Catch())
    except Exception as e:
        pass
    alias_check("list." + meth, leaked, Evil)
# dict mutation during lookup
class K:
    def __hash__(self): return 1
    def __eq__(self, o):
        d.clear(); d.update({i: i for i in range(50)}); return False
d = {K(): 1}
try:
    d[K()]
except (KeyError, RuntimeError) as e:
    print("dict lookup:", type(e).__name__)
# heapq with mutating __lt__
class H:
    def __lt__(self, o):
        heap.clear(); return False
heap = [H() for _ in range(10)]
for fn in (lambda: heapq.heappush(heap, H()), lambda: heapq.heappop(heap), lambda: heapq.heapify(heap)):
    try:
        fn(); print("heapq: ok")
    except Exception as e:
        print("heapq:", type(e).__name__, e)
    heap[:] = [H() for _ in range(10)]
# sort with mutating key
S = list(range(100))
try:
    S.sort(key=lambda x: (S.append(x), S.clear(), x)[2])
    print("sort: no error, len", len(S))
except ValueError as e:
    print("sort:", type(e).__name__, e)
if bad:
    print("RESULT: THROUGH - UAF in", bad)
else:
    print("RESULT: CLOSED - all controls handled safely")
sys.stdout.flush(); os._exit(0)
