#!/usr/bin/env bash
# Start a one-node SLURM cluster on localhost for CI (Debian 12, as root, no systemd).
# Installs slurmctld/slurmd/slurm-client/munge with apt-get if missing, writes
# /etc/slurm/slurm.conf, starts munged, slurmctld and slurmd, waits for the node.
# Idempotent; stop with .ci/slurm/down.sh (by PID). Env: SLURM_TMP (state, logs,
# pid files; default /tmp/stdnet-slurm), SLURM_PARTITION (default debug).
set -euo pipefail
SLURM_TMP=${SLURM_TMP:-/tmp/stdnet-slurm}
PARTITION=${SLURM_PARTITION:-debug}
export DEBIAN_FRONTEND=noninteractive

[ "$(id -u)" = 0 ] || { echo "up.sh: must run as root" >&2; exit 2; }

# 1. packages: only these four are needed (Debian bookworm: slurm 22.05, munge 0.5)
missing=0
for b in slurmctld slurmd sbatch squeue munged; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing=1
done
if [ "$missing" = 1 ]; then
  command -v apt-get >/dev/null || { echo "up.sh: no apt-get to install slurm" >&2; exit 3; }
  apt-get update -q
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
fi

# 2. munge: the authentication slurm uses; reuse a running munged
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
  runuser -u munge -- /usr/sbin/munged
  mkdir -p "$SLURM_TMP" && touch "$SLURM_TMP/munged.ours"   # down.sh stops only our munged
  for _ in $(seq 1 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
munge -n | unmunge >/dev/null

# 3. slurm.conf: this host as the only node, addressed as 127.0.0.1 (no DNS)
HOST=$(hostname -s)
# nproc also obeys OMP_NUM_THREADS, which the test suite sets to 1 (tests/conftest.py):
# count the CPUs this process may use, not the thread limit, or the node gets one CPU
CPUS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
MEM=$(( $(free -m | awk '/^Mem:/{print $2}') - 1024 ))
mkdir -p /etc/slurm "$SLURM_TMP/state" "$SLURM_TMP/spool"
# down.sh removes our slurm.conf again (and restores one that was there before): while a
# slurm.conf names a controller that is not running, `scontrol show config` waits 10 s, and
# the SLURM executor plugin runs it whenever Snakemake starts (+10 s per start)
if [ -e /etc/slurm/slurm.conf ] && ! grep -q "written by stdnet .ci/slurm/up.sh" /etc/slurm/slurm.conf; then
  cp -p /etc/slurm/slurm.conf "$SLURM_TMP/slurm.conf.before"
fi
touch "$SLURM_TMP/slurm.conf.ours"
cat > /etc/slurm/slurm.conf <<CONF
# written by stdnet .ci/slurm/up.sh: one-node test cluster on localhost
ClusterName=stdnetci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=${SLURM_TMP}/state
SlurmdSpoolDir=${SLURM_TMP}/spool
SlurmctldPidFile=${SLURM_TMP}/slurmctld.pid
SlurmdPidFile=${SLURM_TMP}/slurmd.pid
SlurmctldLogFile=${SLURM_TMP}/slurmctld.log
SlurmdLogFile=${SLURM_TMP}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups or systemd in CI containers
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# a job without --mem gets 1 GB per CPU, not the whole node
DefMemPerCPU=1024
ReturnToService=2
# finished jobs stay visible to squeue for 10 min: the executor's status command is squeue
MinJobAge=600
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM} State=UNKNOWN
PartitionName=${PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# 4. daemons (both fork; -c: start with a clean job state)
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pid_alive "$SLURM_TMP/slurmctld.pid" || /usr/sbin/slurmctld -c
pid_alive "$SLURM_TMP/slurmd.pid" || /usr/sbin/slurmd
state=""
for _ in $(seq 1 60); do
  state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.5
done
if [ "$state" != idle ]; then
  echo "up.sh: node $HOST is '$state', not idle after 30 s" >&2
  tail -n 20 "$SLURM_TMP"/slurmctld.log "$SLURM_TMP"/slurmd.log >&2 || true
  exit 1
fi
sinfo
