#!/usr/bin/env python3
# The product page's Python token snippet with PyJWT. Only change besides the key and secret (from the
# command line): PyJWT 2 returns str, so the page's `.decode('utf-8')` (written for PyJWT 1) is applied
# only when encode returns bytes.
import jwt
import sys
import datetime

api_key = sys.argv[1]
secret_key = sys.argv[2]


def generateToken():
    expires = 24 * 3600
    now = datetime.datetime.utcnow()
    exp = now + datetime.timedelta(seconds=expires)
    token = jwt.encode(payload={
        'apikey': api_key
        }, key=secret_key)
    return token.decode('utf-8') if isinstance(token, bytes) else token

if __name__ == '__main__':
    print(generateToken())
