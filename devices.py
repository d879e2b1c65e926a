"""Where a run computes: `--strategy default|mirrored|multiworker` on tf.distribute, and `--cpu_replicas N`.

- default: one device (TensorFlow's default strategy: the first GPU, else the CPU).
- mirrored: `tf.distribute.MirroredStrategy` over every local GPU, or over the N logical CPU devices that
  `--cpu_replicas N` makes (so that the replicated path runs on a laptop and in CI).
- multiworker: `tf.distribute.MultiWorkerMirroredStrategy`, one process per node (or per test on localhost);
  the cluster from TF_CONFIG, else from SLURM (`SlurmClusterResolver`, inside a job step of several tasks).
  Only the chief writes the run folder (`is_chief`); the other workers run the same code on a scratch folder.

`--batch_size` is the global batch: every replica computes on its share of it (trainers/base.py splits the K
critic batches along the batch axis) and the losses are divided by the number of replicas, because the replicas'
gradients are summed (../shared/PITFALLS.md, tf.distribute).
"""
from __future__ import annotations

import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multiworker")


def split_cpu(replicas: int):
    """Split the first CPU into `replicas` logical devices. Must run before TensorFlow initialises its devices
    (before the first op); a second call with the same number is a no-op."""
    if replicas <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == replicas:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError:
        raise RuntimeError(f"--cpu_replicas {replicas}: TensorFlow's devices were initialised before the CPU "
                           f"could be split (this process already ran TensorFlow ops)") from None


def slurm_cluster():
    """SLURM's cluster (one worker per task of the job step) when TF_CONFIG is not set and the step has several
    tasks; None otherwise. The resolver, not auto-detection: without it the strategy hangs (tensorflow#39336)."""
    if "TF_CONFIG" in os.environ or int(os.environ.get("SLURM_STEP_NUM_TASKS", os.environ.get("SLURM_NTASKS", 1))) < 2:
        return None
    from tensorflow.python.distribute.cluster_resolver.slurm_cluster_resolver import SlurmClusterResolver
    port = int(os.environ.get("COUPLED_GAN_PORT_BASE", 8888))  # the first port of a node's tasks (TF's default)
    if tf.config.list_physical_devices("GPU"):
        # GPUs shared out among the node's tasks (CUDA_VISIBLE_DEVICES per task)
        return SlurmClusterResolver(port_base=port)
    # CPU nodes: the resolver counts GPUs with nvidia-smi and would fail; one CPU "slot" per task instead.
    per_node = max(int(n.split("(")[0]) for n in os.environ.get("SLURM_STEP_TASKS_PER_NODE", "1").split(","))
    return SlurmClusterResolver(port_base=port, gpus_per_node=per_node, gpus_per_task=1, auto_set_gpu=False)


def is_chief(strategy) -> bool:
    """Whether this process writes the run folder: one device or one machine always; under multiworker the
    "chief" task, or worker 0 when the cluster has no chief (TF's convention)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None:  # a single local worker
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)


def make_strategy(name: str, cpu_replicas: int = 1):
    """The tf.distribute strategy of `--strategy name` (split_cpu(cpu_replicas) first, before any op)."""
    split_cpu(cpu_replicas)
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
        if gpus:
            return tf.distribute.MirroredStrategy(gpus)
        return tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
    if name == "multiworker":
        resolver = slurm_cluster()
        if resolver is None:  # TF_CONFIG (or a single local worker)
            return tf.distribute.MultiWorkerMirroredStrategy()
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    raise ValueError(f"unknown --strategy '{name}' (choose from {', '.join(STRATEGIES)})")
