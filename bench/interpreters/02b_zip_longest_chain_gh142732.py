# gh-142732 variant B: the reproducer from the issue (chain(driver) inside zip_longest,
# driver.__next__ re-enters the zip_longest).
import itertools
class Reenter:
    zip_longest = None
    def __iter__(self):
        return self
    def __next__(self):
        z = self.zip_longest
        if z is None:
            raise StopIteration
        self.zip_longest = None
        next(z, None)
        raise StopIteration
driver = Reenter()
driver.zip_longest = itertools.zip_longest(itertools.chain(driver), itertools.repeat(None))
try:
    r = next(driver.zip_longest)
    print("next() ->", r)
    # touch the object more to expose a dangling pointer
    print("second next() ->", next(driver.zip_longest, "EXHAUSTED") if driver.zip_longest else "n/a")
    print("RESULT: CLOSED? - no crash observed")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
