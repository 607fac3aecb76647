"""Access tables of the customer portal (checked by tests/test_access.py for every role).

In those generic tests the records belong to a customer of a salesperson, and the "customer" role is a
buyer of ANOTHER company: so every portal URL naming a record answers 404 to every role there (nobody
in that setup may open it). That a buyer opens their own company's records is tested in
tests/test_myportal.py, together with buyer A trying every URL with buyer B's ids.
"""
NOBODY = ()

GET_ACCESS = {
    "/my/orders/": ("customer",),
    "/my/samples/": ("customer",),
    "/my/documents/": ("customer",),
    "/my/orders/{order_id}": NOBODY,
    "/my/orders/{order_id}/files/{order_file_id}": NOBODY,
}
POST_ACCESS = {
    "/my/samples/{sample_id}/evaluate": NOBODY,
}
