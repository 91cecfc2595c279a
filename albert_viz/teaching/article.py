"""The Chinese-language explainer this app grew from: what it is, and its claims about ALBERT, quoted.

The article (in /work/shared/seeds when this was written) carries no title or author of its own: it is a blog-style
tutorial on Transformer, BERT and ALBERT whose sections run from "1. 背景介绍" (background) to "10. 扩展阅读 &
参考资料" (further reading). Each claim below is quoted from it, translated into English, with the section it is in
and the original Chinese where it is short, so a student can find it and see exactly what is being corrected.
"""
from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("a popular Chinese-language explainer of Transformer, BERT and ALBERT (a blog-style tutorial with no "
          "author named, sections “1. 背景介绍” to “10. 扩展阅读 & 参考资料”), the text this app was built to correct")
SHORT_NAME = "the Chinese-language ALBERT explainer"


@dataclass(frozen=True)
class Claim:
    """One thing the article says, where it says it, and what the paper and the code say instead."""

    topic: str
    section: str  # the article's own section number, e.g. "§2.3"
    quote: str  # faithful English translation of the article's words
    original: str  # the article's own words, in Chinese (or its formula as written)
    truth: str


CLAIMS = (
    Claim("cross-attention", "§2.3",
          "Cross-attention: inside the self-attention mechanism, cross-attention is introduced, so that the model "
          "attends to the text sequence and the attention sequence at the same time.",
          "在自注意力机制中，引入交叉注意力（Cross-Attention）",
          "ALBERT is encoder-only self-attention: there is no decoder and no cross-attention anywhere in it."),
    Claim("causal attention", "§2.5, its diagram",
          "Its flow chart draws ALBERT as “Causal Self-Attention”, a layer that only looks backwards.",
          "A4[ALBERT Model]……A4 --> B12[Causal Self-Attention]",
          "ALBERT's self-attention is bidirectional, as BERT's is: every token attends to every token, before and "
          "after it. Causal (backward-only) attention belongs to text generators such as GPT."),
    Claim("linear layer normalization", "§2.3",
          "Linear layer normalization: the inputs of self-attention and of the feed-forward network are layer "
          "normalized, which reduces the number of model parameters.",
          "线性层归一化……降低了模型参数的数量",
          "ALBERT uses ordinary LayerNorm, exactly as BERT does. Its parameter savings come from factorized "
          "embeddings (E = 128 lifted to H) and from one layer shared across all depths."),
    Claim("training direction", "§2.3",
          "Bidirectional training: BERT trains in one direction, first forwards and then backwards; ALBERT trains "
          "in both directions at once.",
          "BERT采用单向训练，即先正向训练再反向训练。ALBERT则通过双向训练",
          "BERT is already bidirectional: its masked-language-model task reads the words on both sides of each "
          "gap. ALBERT's change to training is sentence-order prediction (SOP) in place of next-sentence prediction."),
    Claim("encoder and decoder", "§3.5",
          "Build an encoder and a decoder network: the encoder produces the text representation, the decoder "
          "produces the predictions.",
          "构建编码器和解码器网络",
          "ALBERT has no decoder. Its pretraining heads are a masked-language-model head (tied to the word "
          "embeddings) and a small sentence-order classifier on [CLS]."),
    Claim("attention formula (softmax)", "§3.1 and §4.6",
          "The attention score is a_ij = softmax(K_iᵀ Q_j / √d_k); and a_11 = 1 / Σ_j exp(K_1ᵀ Q_j / √5).",
          r"a_{ij} = \mathrm{softmax}\left(\frac{K_i^T Q_j}{\sqrt{d_k}}\right)",
          "a_ij = exp(q_i · k_j / √d_k) / Σ_l exp(q_i · k_l / √d_k): the query of token i against the key of "
          "token j, normalised over the keys j. The article swaps the roles of i and j and drops the exponential "
          "on top of a_11."),
    Claim("worked example", "§4.6",
          "“Suppose the attention scores are” a_11 = 0.2, a_12 = 0.3, a_13 = 0.1, … and a sixth row a_61 … a_65, "
          "for the five one-hot tokens of “I love programming” whose q, k and v are all [1, 1, 1, 1, 1].",
          "假设注意力分数为",
          "With every q_i and k_j equal to [1,1,1,1,1] every score is equal, so every weight is exactly 1/5 = 0.2; "
          "five tokens have no sixth row. The worked examples page recomputes it step by step."),
    Claim("paper title", "§10",
          "Lan et al. (2020), “ALBERT: A Dynamic BERT Model for Universal Language Representation”, "
          "arxiv.org/abs/1907.05242.",
          "《ALBERT：动态BERT模型用于通用语言表示》",
          "The title is “ALBERT: A Lite BERT for Self-supervised Learning of Language Representations” "
          "(Lan et al., ICLR 2020), arXiv:1909.11942."),
)


def claim(topic: str) -> Claim:
    """The article's claim on a topic (KeyError for a topic it does not cover)."""
    for candidate in CLAIMS:
        if candidate.topic == topic:
            return candidate
    raise KeyError(topic)
