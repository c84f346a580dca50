# gh-115243: deque.index() borrows the item while calling its __eq__; an __eq__
# that clears the deque frees the item mid-comparison.  The reflected __eq__ of the
# probe then receives the already-deallocated object (its __del__ has run).
import collections, os, sys
leaked = []
dead = set()
class Evil:
    def __del__(self):
        dead.add(id(self))
    def __eq__(self, o):
        deq.clear()
        return NotImplemented
class Catch:
    def __eq__(self, o):
        leaked.append(id(o) in dead)          # True if o's destructor already ran (o is freed memory)
        return False
deq = collections.deque([Evil()])
try:
    deq.index(Catch())
    print("index() returned without error")
except Exception as e:
    print("exception:", type(e).__name__, e)
if any(leaked):
    print("RESULT: THROUGH - reflected __eq__ received an already-deallocated object (UAF)")
else:
    print("RESULT: CLOSED - item kept alive during comparison")
sys.stdout.flush(); os._exit(0)
