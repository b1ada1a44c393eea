"""Catalogues the sample generator draws from: products, code lists, weights and customer texts."""

from __future__ import annotations

# (name, unit price in yuan, relative popularity)
PRODUCTS: tuple[tuple[str, float, float], ...] = (
    ("无线蓝牙耳机", 199.00, 10.0),
    ("保温杯 500ml", 89.00, 9.0),
    ("Running shoes", 459.00, 6.0),
    ("智能手环", 249.00, 6.0),
    ("USB-C charging cable", 39.90, 12.0),
    ("空气炸锅", 399.00, 4.0),
    ("Yoga mat", 129.00, 5.0),
    ("机械键盘", 329.00, 4.0),
    ("电动牙刷", 169.00, 7.0),
    ("Backpack 20L", 219.00, 4.0),
    ("纯棉T恤", 79.00, 11.0),
    ("Phone case", 49.00, 10.0),
)

QUANTITIES: tuple[int, ...] = (1, 2, 3)
QUANTITY_WEIGHTS: tuple[float, ...] = (0.82, 0.13, 0.05)

# Price actually paid as a share of list price (coupons, promotions).
DISCOUNTS: tuple[float, ...] = (1.0, 0.95, 0.9, 0.8)
DISCOUNT_WEIGHTS: tuple[float, ...] = (0.7, 0.1, 0.12, 0.08)

PAYMENT_METHODS: tuple[str, ...] = ("alipay", "wechat", "card", "cod")
PAYMENT_WEIGHTS: tuple[float, ...] = (0.45, 0.38, 0.12, 0.05)

CHANNELS: tuple[str, ...] = ("app", "mini_program", "web")
CHANNEL_WEIGHTS: tuple[float, ...] = (0.5, 0.3, 0.2)

ORDER_STATUSES: tuple[str, ...] = ("completed", "delivered", "shipped", "paid", "cancelled", "refunded")
ORDER_STATUS_WEIGHTS: tuple[float, ...] = (0.55, 0.2, 0.1, 0.05, 0.05, 0.05)
TROUBLED_STATUSES: frozenset[str] = frozenset({"cancelled", "refunded"})

# Relative activity per local hour 0..23: quiet nights, a lunch bump and an evening peak.
ORDER_HOUR_WEIGHTS: tuple[float, ...] = (
    1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.7, 1.5, 2.5, 3.5, 4.2, 4.5,
    4.8, 4.3, 4.0, 4.0, 4.2, 4.6, 5.2, 6.5, 8.0, 8.5, 6.5, 3.5,
)
SESSION_HOUR_WEIGHTS: tuple[float, ...] = (
    1.5, 0.8, 0.4, 0.3, 0.3, 0.4, 0.9, 2.0, 3.0, 3.8, 4.3, 4.6,
    5.0, 4.6, 4.2, 4.2, 4.4, 4.8, 5.5, 6.8, 8.0, 8.2, 6.8, 4.0,
)
FEEDBACK_HOUR_WEIGHTS: tuple[float, ...] = (
    0.8, 0.4, 0.2, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 4.0, 4.8, 4.8,
    4.5, 4.5, 4.6, 4.6, 4.5, 4.4, 4.5, 5.0, 5.5, 5.5, 4.0, 2.0,
)

# Number of feedback rows per order (0, 1, 2) and days between order and feedback (0..5).
FEEDBACK_COUNT_WEIGHTS: tuple[float, ...] = (0.63, 0.35, 0.02)
FEEDBACK_DELAY_WEIGHTS: tuple[float, ...] = (0.3, 0.25, 0.18, 0.12, 0.09, 0.06)

ISSUE_TYPES: tuple[str, ...] = ("review", "inquiry", "complaint", "return", "refund", "dispute")
ISSUE_TYPE_WEIGHTS: tuple[float, ...] = (0.70, 0.10, 0.08, 0.05, 0.05, 0.02)
# For cancelled or refunded orders.
TROUBLED_ISSUE_TYPE_WEIGHTS: tuple[float, ...] = (0.30, 0.10, 0.15, 0.15, 0.25, 0.05)

# Rating 1..5 probabilities per issue type (order of ISSUE_TYPES).
RATING_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (0.02, 0.02, 0.08, 0.28, 0.60),  # review
    (0.04, 0.06, 0.25, 0.35, 0.30),  # inquiry
    (0.22, 0.16, 0.27, 0.20, 0.15),  # complaint
    (0.22, 0.16, 0.27, 0.20, 0.15),  # return
    (0.22, 0.16, 0.27, 0.20, 0.15),  # refund
    (0.25, 0.17, 0.28, 0.18, 0.12),  # dispute
)
RATING_MISSING_SHARE = 0.05  # of non-review tickets

CAUSES: tuple[str, ...] = ("payment", "not_delivered", "cumbersome_return", "quality", "other")
# Cause probabilities for problem texts, per issue type (order of ISSUE_TYPES); review and inquiry rows
# only use them when rated below 3.
CAUSE_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (0.05, 0.25, 0.05, 0.40, 0.25),  # low-rated review
    (0.25, 0.35, 0.15, 0.05, 0.20),  # low-rated inquiry
    (0.20, 0.35, 0.05, 0.25, 0.15),  # complaint
    (0.00, 0.05, 0.40, 0.45, 0.10),  # return
    (0.35, 0.25, 0.20, 0.10, 0.10),  # refund
    (0.40, 0.30, 0.00, 0.00, 0.30),  # dispute
)

CAUSE_TEXTS: dict[str, tuple[str, ...]] = {
    "payment": (
        "支付失败，但是钱被扣了",
        "重复扣款，请尽快退回多扣的钱",
        "付款时一直提示支付异常",
        "优惠券没抵扣，多扣了钱",
        "payment failed, charged twice",
        "I was double charged for one order",
        "Payment went through but the order says unpaid",
        "支付失败了两次，最后扣了两次款",
    ),
    "not_delivered": (
        "物流一直不更新",
        "没收到货，显示已签收",
        "快递好几天了还没到",
        "说好次日达，一周了还没发货",
        "package not delivered",
        "Tracking has not moved for five days",
        "Never arrived, courier says delivered",
        "没收到货还要我走退货流程，太麻烦了",
    ),
    "cumbersome_return": (
        "退货流程太麻烦",
        "申请退货要填好多资料，还要自己寄回",
        "退货审核太慢了，等了一个星期",
        "return process too complicated",
        "Had to print a return label and drive to the post office, too much hassle",
        "The return request keeps getting rejected without reason",
        "商品破损，申请退货又说超时了",
    ),
    "quality": (
        "质量差，用了两天就坏了",
        "商品破损，包装也烂了",
        "和图片不一样，做工很粗糙",
        "有异味，质量不行，像是二手的",
        "arrived broken",
        "Poor quality, stopped working after a week",
        "Defective item, the left earbud has no sound",
    ),
    "other": (
        "客服态度差，问了半天没人回",
        "发票开错了，一直没人处理",
        "尺码不对，发错货了",
        "下单后马上降价了，要求补差价",
        "Customer service was rude",
        "Wrong colour sent",
        "Price dropped the day after I bought it",
    ),
}

PRAISE_TEXTS: tuple[str, ...] = (
    "非常好用，推荐购买",
    "发货很快，包装很好",
    "性价比高，会回购",
    "和描述一致，很满意",
    "默认好评",
    "给家人买的，很喜欢",
    "Great product, works perfectly",
    "Fast shipping, well packed",
    "Exactly as described, would buy again",
    "Good value for money",
)

NEUTRAL_TEXTS: tuple[str, ...] = (
    "一般般，凑合用",
    "还行，中规中矩",
    "东西可以，就是等得有点久",
    "It's OK for the price",
    "Average, nothing special",
)

INQUIRY_TEXTS: tuple[str, ...] = (
    "请问什么时候发货？",
    "可以开增值税发票吗？",
    "这个型号支持无线充电吗？",
    "能改一下收货地址吗？",
    "How do I track my order?",
    "Can I change the delivery address?",
    "Is there a warranty on this item?",
)

# Resolution probabilities per issue type (order of ISSUE_TYPES).
RESOLUTIONS: tuple[str, ...] = (
    "refunded", "replaced", "repaired", "compensated", "info_provided", "rejected",
)
RESOLUTION_WEIGHTS: tuple[tuple[float, ...], ...] = (
    (0.02, 0.02, 0.01, 0.08, 0.82, 0.05),  # review
    (0.00, 0.00, 0.00, 0.02, 0.90, 0.08),  # inquiry
    (0.15, 0.10, 0.05, 0.35, 0.20, 0.15),  # complaint
    (0.45, 0.25, 0.08, 0.04, 0.03, 0.15),  # return
    (0.75, 0.00, 0.00, 0.08, 0.02, 0.15),  # refund
    (0.40, 0.00, 0.00, 0.25, 0.00, 0.35),  # dispute
)

# Values the fault injector writes into bad rows.
UNPARSEABLE_DATES: tuple[str, ...] = (
    "{year}/13/45 25:61", "yesterday", "昨天 25:61", "{year}-02-30 10:00:00",
)
RATING_OUT_OF_RANGE: tuple[str, ...] = ("0", "6")
RATING_NOT_NUMERIC = "五"
