"""Every user-facing string, in one package: one module per area of the product.

Texts are plain str templates formatted by the caller with keyword arguments, so a wording
change never touches logic. Dates shown to people are Asia/Shanghai (see `fmt`).
"""
