#!/usr/bin/env bash
# Stop the one-node test cluster started by up.sh, by PID only (never by name).
set -u
SLURM_TMP=${SLURM_TMP:-/tmp/stdnet-slurm}
stop() {  # $1 pid file, $2 name: SIGTERM, wait up to 10 s, then SIGKILL
  local pf=$1 name=$2 pid
  [ -s "$pf" ] || { echo "$name: no pid file $pf"; return 0; }
  pid=$(cat "$pf")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name ($pid) ignored SIGTERM: SIGKILL"
      kill -KILL "$pid"
    fi
    echo "$name ($pid) stopped"
  else
    echo "$name: pid $pid not running"
  fi
  rm -f "$pf"
}
# cancel leftover jobs while the controller still answers
if [ -s "$SLURM_TMP/slurmctld.pid" ] && kill -0 "$(cat "$SLURM_TMP/slurmctld.pid")" 2>/dev/null; then
  timeout 10 scancel --user="$(id -un)" 2>/dev/null || true
fi
stop "$SLURM_TMP/slurmd.pid" slurmd
stop "$SLURM_TMP/slurmctld.pid" slurmctld
# munged only if up.sh started it (a munged that was running before is left alone)
if [ -e "$SLURM_TMP/munged.ours" ]; then
  stop /run/munge/munged.pid munged
  rm -f "$SLURM_TMP/munged.ours"
fi
# slurm.conf only if up.sh wrote it: without it scontrol fails at once instead of waiting
# 10 s for a controller that is gone (the executor plugin asks it at every Snakemake start)
if [ -e "$SLURM_TMP/slurm.conf.ours" ]; then
  if [ -e "$SLURM_TMP/slurm.conf.before" ]; then
    mv -f "$SLURM_TMP/slurm.conf.before" /etc/slurm/slurm.conf
  else
    rm -f /etc/slurm/slurm.conf
  fi
  rm -f "$SLURM_TMP/slurm.conf.ours"
fi
exit 0
