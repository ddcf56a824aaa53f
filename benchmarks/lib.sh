# Shared helpers for the benchmark scripts: `. "$(dirname "$0")/lib.sh"`.
# Times are wall seconds; every figure a script prints is a median (the machines are noisy).

# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# now: seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# timed SETUP CMD: median wall seconds of CMD over $runs runs (default 5), SETUP run before
# each (untimed). Both run under bash -c with their output discarded.
timed() {
  local setup=$1 cmd=$2 times=() t0 t1
  for _ in $(seq "${runs:-5}"); do
    bash -c "$setup" >/dev/null 2>&1
    t0=$(now)
    bash -c "$cmd" >/dev/null 2>&1
    t1=$(now)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
  done
  printf '%s\n' "${times[@]}" | median
}

# ratio A B: A / B with two decimals ("n/a" when B is zero).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "n/a"; else printf "%.2f\n", a / b}'; }
