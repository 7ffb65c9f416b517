"""ISO 4217 currencies with their minor-unit digits (money travels as integer minor units)."""

DECIMALS: dict[str, int] = {
    # West and Central Africa (CFA francs have no minor unit in use)
    "XOF": 0, "XAF": 0, "NGN": 2, "GHS": 2, "GNF": 0, "SLE": 2, "LRD": 2, "GMD": 2, "CVE": 2,
    "MRU": 2, "CDF": 2,
    # North, East and Southern Africa
    "MAD": 2, "DZD": 2, "TND": 3, "EGP": 2, "LYD": 3, "KES": 2, "UGX": 0, "TZS": 2, "RWF": 0,
    "BIF": 0, "ETB": 2, "DJF": 0, "KMF": 0, "MGA": 2, "MUR": 2, "SCR": 2, "ZAR": 2, "BWP": 2,
    "NAD": 2, "ZMW": 2, "MWK": 2, "MZN": 2, "AOA": 2,
    # Europe
    "EUR": 2, "CHF": 2, "GBP": 2, "SEK": 2, "NOK": 2, "DKK": 2, "ISK": 0, "PLN": 2, "CZK": 2,
    "HUF": 2, "RON": 2, "BGN": 2, "RSD": 2, "UAH": 2, "TRY": 2,
    # Elsewhere
    "USD": 2, "CAD": 2, "MXN": 2, "BRL": 2, "ARS": 2, "CLP": 0, "COP": 2, "PEN": 2, "HTG": 2,
    "JPY": 0, "KRW": 0, "CNY": 2, "HKD": 2, "SGD": 2, "INR": 2, "VND": 0, "IDR": 2, "THB": 2,
    "PHP": 2, "AUD": 2, "NZD": 2, "XPF": 0, "AED": 2, "SAR": 2, "QAR": 2, "KWD": 3, "BHD": 3,
    "OMR": 3, "JOD": 3, "ILS": 2, "LBP": 2,
}
