# The product page's Ruby token snippet, verbatim but for the key and secret (from the command line).
require 'jwt'
require 'securerandom'

$api_key = ARGV[0]
$secret_key = ARGV[1]

def generateToken()
    payload = {
      apikey: $api_key
    }
token = JWT.encode(payload, $secret_key, 'HS256')
return token
end

puts generateToken
