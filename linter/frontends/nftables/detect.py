"""Recognising nftables files: `nft -f` scripts and `nft list ruleset` output, by content or name."""

from __future__ import annotations

import re
from pathlib import PurePath

from linter.frontends.registry import Detector, FrontEndInfo, Sniff

_NFT_CONTENT = re.compile(r"^\s*(table\s+(ip|ip6|inet|arp|bridge|netdev)\s+\S+|flush\s+ruleset|(add|insert)\s+(rule|table|chain)\s)"
                          r"|^#!.*\bnft\b", re.M)
NFT_NAMES = re.compile(r"^(nftables\.conf|.*\.nft)$", re.I)


def _nft(file: Sniff) -> bool:
    return bool(_NFT_CONTENT.search(file.head) or NFT_NAMES.match(file.name))


FRONT_ENDS = (
    FrontEndInfo(
        name="nftables",
        module="linter.frontends.nftables",
        detect=(Detector(60, _nft),),
        names=lambda path: bool(NFT_NAMES.match(PurePath(path).name)),
        hook_files=r"[^/]*\.nft|nftables\.conf",
    ),
)
