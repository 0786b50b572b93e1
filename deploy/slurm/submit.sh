#!/bin/sh
# brink: submit the shards as a job array, then the merge after all of them succeed.
# If a shard fails, Slurm cancels the merge (--kill-on-invalid-dep=yes).
set -eu
array=$(sbatch --parsable --array=0-15 /shared/brink/jobs/baghdad-2020/brink-array.sbatch)
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes /shared/brink/jobs/baghdad-2020/brink-merge.sbatch)
merge=${merge%%;*}
echo "$array" > /shared/brink/jobs/baghdad-2020/array.jobid
echo "$merge" > /shared/brink/jobs/baghdad-2020/merge.jobid
echo "array job $array: 16 shards (tasks 0-15)"
echo "merge job $merge: runs when every shard has succeeded"
printf 'results: %s\n' /shared/brink/jobs/baghdad-2020/results
