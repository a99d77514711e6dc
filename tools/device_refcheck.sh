#!/usr/bin/env bash
# Reference-parameter measurements on a 16-core machine (see README, "Reference parameters").
export PYTHONPATH=src PYTHONUNBUFFERED=1
R="python3 tools/reference_check.py"
o=${OUT:-/tmp}
timeout 330 $R --N 10000 --J0 0.1 --transient 200 --window 100 --threads 2 > $o/n1e4_j0.1.jsonl 2>&1 &
timeout 330 $R --N 10000 --J0 0.87 --transient 500 --window 300 --threads 3 > $o/n1e4_j0.87.jsonl 2>&1 &
timeout 330 $R --N 10000 --J0 1.0 --transient 500 --window 300 --threads 3 > $o/n1e4_j1.0.jsonl 2>&1 &
timeout 330 $R --N 10000 --J0 1.5 --transient 300 --window 300 --threads 3 > $o/n1e4_j1.5.jsonl 2>&1 &
timeout 330 $R --N 20000 --J0 1.5 --dt 0.025 --transient 150 --window 150 --threads 5 > $o/n2e4_j1.5.jsonl 2>&1 &
wait
timeout 200 $R --N 40000 --J0 1.5 --dt 0.025 --transient 60 --window 60 --threads 16 > $o/n4e4_j1.5.jsonl 2>&1
cat $o/*.jsonl
