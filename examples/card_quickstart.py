# %% [markdown]
# # The AI business card: from a photo (or its text) to a typed contact
#
# Field extraction runs on text, so it works with any OCR; images go through a
# pluggable offline backend (RapidOCR or Tesseract) when one is installed.

# %%
import pandas as pd

from chainmall.card import LocalRegistryProvider, extract_contact, make_card_truth, read_card
from chainmall.exceptions import OptionalDependencyError

text = """上海云帆信息科技有限公司
张 伟  销售总监
手机：+86 138-1234-5678
电话：(021) 6123 4567 转 801
邮箱: zhang.wei@yunfan-tech.com
地址：上海市浦东新区张江路 88 号 5 楼"""
contact = extract_contact(text)
for field, value in contact.as_record().items():
    print(f"{field:9s} {value!s:32s} confidence {contact.confidences()[field]:.2f}")

# %% [markdown]
# Enrich the company from a local registry (a commercial API would implement the
# same one-method `CompanyProvider` protocol).

# %%
registry = pd.DataFrame(
    {
        "name": ["上海云帆信息科技股份有限公司"],
        "credit_code": ["91310000MA1FL0001X"],
        "status": ["存续"],
    }
)
assert contact.company is not None
print(LocalRegistryProvider(registry).lookup(contact.company.value))

# %% [markdown]
# Read a generated card image if an OCR backend and a CJK font are installed.

# %%
try:
    from chainmall.card import render_card

    truth = make_card_truth(1, seed=3).iloc[0]
    reading = read_card(__import__("numpy").asarray(render_card(truth, seed=3)))
    print(reading.backend, reading.contact.as_record())
except OptionalDependencyError as exc:
    print("skipped image reading:", exc)
