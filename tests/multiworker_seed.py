"""Records for tests/test_multiworker.py, written into the database gunicorn will serve.

Run as a script in a child process (`python -m tests.multiworker_seed`) with the same environment as the
server (PORTAL_INSTANCE_PATH, PORTAL_DATABASE_URL): it builds the schema with the migrations, adds the users,
customers and orders the tests use, and prints their ids as JSON. A child process keeps the test process's
own app and its extensions (the limiter's storage) untouched.
"""
import json
import sys

PASSWORD = "Multi-Worker-42"
CONTRACT_ORDERS = 10  # orders without a contract, issued in parallel by the gap-free test
USERS = {  # username -> role
    "mw_admin": "admin",
    "mw_manager": "manager",
    "mw_sales": "sales",
    "mw_victim": "sales",  # failed sign-ins spread over the workers
    "mw_session": "sales",  # signed in and out, password reset by the admin
}


def main() -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.services import hash_password
    from portal.extensions import db
    from portal.models import User
    from tests import documents_data

    app = create_app()
    with app.app_context():
        upgrade()
        users = {}
        for username, role in USERS.items():
            user = User(username=username, display_name=username, role=role, password_hash=hash_password(PASSWORD))
            db.session.add(user)
            db.session.flush()
            users[username] = user.id
        documents_data.company(seal=False)
        edited = documents_data.customer(owner_id=users["mw_sales"], name="并发编辑测试有限公司",
                                         credit_code=None)
        buyer = documents_data.customer(owner_id=users["mw_sales"], name="并发合同测试有限公司",
                                        credit_code=None)
        orders = [documents_data.order(buyer).id for _ in range(CONTRACT_ORDERS)]
        db.session.commit()
        json.dump({"users": users, "edited_customer": edited.id, "contract_orders": orders}, sys.stdout)


if __name__ == "__main__":
    main()
