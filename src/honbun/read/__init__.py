"""Reading: bytes to a :class:`~honbun.read.page.Page`. Decode and normalise, cut HTML,
text dumps and corpora into blocks, split blocks into sentences, tokenise with fugashi."""
