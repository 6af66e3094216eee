"""The demo world's past and synthetic portfolios: the 180-day demo history lived through the real
services (`history`, `promotions`, `seed`), the portfolio simulation behind `fenqi simulate` (`simulate`),
and the one shopper-behaviour model both draw their shoppers from (`behaviour`)."""
