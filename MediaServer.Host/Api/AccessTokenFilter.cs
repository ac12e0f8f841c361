using MediaServer.Host.Auth;

namespace MediaServer.Host.Api;

/// <summary>Requires a valid access token on every endpoint of the group; 401 with a JSON problem otherwise.</summary>
internal sealed class AccessTokenFilter(AccessTokenValidator validator, ILogger<AccessTokenFilter> logger) : IEndpointFilter
{
    private const string ItemKey = "MediaServer.ApiKey";

    public static string ApiKeyOf(HttpContext context) => (string)context.Items[ItemKey]!;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var result = await validator.ValidateAsync(http.Request.Headers.Authorization.ToString(), http.RequestAborted);
        if (!result.IsValid)
        {
            logger.LogInformation("API request {Method} {Path} from {Remote} refused: {Reason}", http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress, result.Error);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: result.Error);
        }

        http.Items[ItemKey] = result.ApiKey;
        return await next(context);
    }
}
