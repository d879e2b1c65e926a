"""The architectures' tables, without TensorFlow: names, image sizes, block counts, CoGAN sharing defaults and the
maps the feature regulariser compares (issue 19 item 6: config.resolve checks options against them before Keras is
imported; nets.py builds the networks and re-exports these names). tests/test_nets.py checks the tables against the
built networks.
"""
from __future__ import annotations

ARCHS = ("cogan32", "cogan128", "cogan256", "dcgan64", "toy")
# The side of the images each image architecture makes (toy: 2-D points, none).
IMAGE_SIZE = {"cogan32": 32, "dcgan64": 64, "cogan128": 128, "cogan256": 256}
# CoGAN defaults, the "Shared" columns of the thesis tables: the generators share every block but the last
# (Table 3.1) or the last two (Tables A.1, A.3: the 64x64x32 / 128x128x32 transposed convolution and the output);
# the discriminators share every block but the first convolution (Tables 3.2, A.2, A.4).
DEFAULT_SHARED = {"cogan32": (4, 3), "cogan128": (5, 7), "cogan256": (6, 7), "dcgan64": (4, 4), "toy": (3, 3)}
# Which generator maps the feature regulariser compares (Eq. 4.1), as indices into the block outputs of
# `BlockNet.call_with_features` (block 0 is the dense layer, the last block the image):
# - "thesis": the authors' multi-output generators (Listing 6.7; the 128x128 one likewise) -- the output of
#   every transposed-convolution block but the last one, then the image. 32x32: the 8x8 and 16x16 maps and
#   the image, so K = 3 compares those three and K = 2 the two maps.
# - "hidden": every hidden block from the first (the 4x4 dense output, then 8x8, 16x16, ...), image excluded.
FR_MAPS = ("thesis", "hidden")


def fr_map_indices(num_blocks: int, fr_maps: str = "thesis") -> list:
    """Block indices FR compares, first first; K = --fr_layers takes the first K (see FR_MAPS)."""
    if fr_maps == "thesis":
        return list(range(1, num_blocks - 2)) + [num_blocks - 1]
    if fr_maps == "hidden":
        return list(range(num_blocks - 1))
    raise ValueError(f"unknown --fr_maps '{fr_maps}' (choose from {', '.join(FR_MAPS)})")


def default_arch(image_size: int) -> str:
    """The image architecture that makes `image_size` pixels ("" for a size none makes)."""
    return {size: arch for arch, size in IMAGE_SIZE.items()}.get(image_size, "")


# (generator blocks, discriminator blocks) per architecture: counted from the tables, not by building the nets,
# because config.resolve asks before any TensorFlow op may run (--cpu_replicas splits the CPU first and a built
# Dropout layer would already have started TensorFlow). tests/test_nets.py checks them against gen/disc_blocks.
NUM_BLOCKS = {"cogan32": (5, 4), "cogan128": (7, 8), "cogan256": (8, 8), "dcgan64": (5, 5), "toy": (4, 4)}


def num_blocks(arch: str) -> tuple[int, int]:
    """(generator blocks, discriminator blocks): the bounds for --shared_layers_g/_d."""
    try:
        return NUM_BLOCKS[arch]
    except KeyError:
        raise ValueError(f"unknown architecture '{arch}'") from None


# UNIT's nets (trainers/unit.py builds them; here without Keras): name -> (blocks of each encoder and generator,
# default --shared_layers_e, default --shared_layers_g), the sharing of the official version_02 net.
UNIT_NETS = {"CoVAE32x32": (5, 4, 3),   # cocogan_nets_da.py: g_en_conv1-3 + g_vae shared, g_de_conv0-2 shared
             "COCOResGen": (7, 1, 1)}   # cocogan_nets.py (cat2tiger.yaml): n_enc_shared_blk 1, n_gen_shared_blk 1


def unit_net(size) -> str:
    """32 px: version_02's digit net CoVAE32x32; 64 px and up: its translation net COCOResGen (spatial latent)."""
    return "CoVAE32x32" if size <= 32 else "COCOResGen"


def unit_blocks(size) -> int:
    """Blocks of each UNIT encoder and generator at this image size (UNIT_NETS)."""
    return UNIT_NETS[unit_net(size)][0]
