#!/usr/bin/env bash
# Everything results/cpu-table/ reports, from the merged table (run after scripts/build_cpu_table.sh): fidelity
# against NAS-Bench-201 and the proxies, the surrogate's held-out quality, the surrogate itself, the hybrid
# leaderboard next to the NB201 one, their comparison, and the search-space analysis. Reruns reuse stored results
# made under the same settings; pass --overwrite (first argument) after the table changed.
set -euo pipefail
cd "$(dirname "$0")/.."
overwrite=${1:-}
R=results/cpu-table
T=tables/cifar10-jpeg75-cpu.h5
FEAT=effective_onehot,effective_counts,params_m,proxy_naswot,proxy_synflow,proxy_jacob_cov
STRATEGIES=bananas,bo,rea,ga,hyperband,sh,bohb,local-search,optuna-tpe,qlearning,random,reinforce,tpe
{
    proxies=--proxies=proxy_naswot,proxy_synflow,proxy_jacob_cov
    python scripts/table_tau.py $T --metric valid_acc --archs canonical:500:0 $proxies --top 5 \
        --plot $R/uniform_vs_nb201
    python scripts/table_tau.py $T --metric valid_acc --archs stratified:60:0 $proxies
    python scripts/table_tau.py $T --metric valid_acc --top 5
    python scripts/table_tau.py $T --metric valid_acc --reference-metric valid_acc --reference-epoch 12 \
        --archs canonical:500:0
} | tee $R/fidelity.txt
nasbench-suite surrogate eval $T --models xgb --train-sizes 50,100,200 --repeats 3 --target valid_acc@4 \
    --features $FEAT --features-from nb201-cifar10 --out $R/surrogate $overwrite
cells=$(python -c "from nasbench_suite import open_table; print(len(open_table('$T').archs))")
nasbench-suite surrogate build $T --train-size "$cells" --features $FEAT --features-from nb201-cifar10 \
    --target valid_acc,test_acc,train_seconds_per_epoch,eval_seconds --out $R/cifar10-jpeg75-cpu.surrogate
nasbench-suite benchmark --table cifar10-jpeg75-cpu --surrogate $R/cifar10-jpeg75-cpu.surrogate --hybrid \
    --strategies $STRATEGIES --budget 150q --out $R/leaderboard --jobs 2 $overwrite
nasbench-suite benchmark --strategies $STRATEGIES --budget 150q --out $R/nb201-leaderboard --jobs 2
nasbench-suite compare $R/nb201-leaderboard $R/leaderboard --out $R/comparison.md
nasbench-suite analyze cifar10-jpeg75-cpu --compare nb201-cifar10
