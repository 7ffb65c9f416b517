"""Corrections to stock outside sales and deliveries (issue 16): waste, offered and staff
drinks, and transfers between bars. Each is one plpgsql function (migrations/functions/4N_*)."""
