import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { refuseService, requireViewer, type RequestContext } from './context';
import type { AuthService } from './auth.service';
import { AuthPayload, LoginInput, RegisterInput } from './auth.types';

@Resolver()
export class AuthResolver {
  constructor(private readonly service: AuthService) {}

  @Mutation(() => AuthPayload)
  register(@Ctx() ctx: RequestContext, @Arg('input', () => RegisterInput) input: RegisterInput): Promise<AuthPayload> {
    refuseService(ctx);
    return this.service.register(input, ctx.clientAddress);
  }

  @Mutation(() => AuthPayload, {
    description: "Ends the user's earlier session on the same terminal, if any (its refresh token stops working, its sockets close).",
  })
  login(@Ctx() ctx: RequestContext, @Arg('input', () => LoginInput) input: LoginInput): Promise<AuthPayload> {
    refuseService(ctx);
    return this.service.login(input, ctx.clientAddress);
  }

  @Mutation(() => AuthPayload, { description: 'Rotates: the refresh token passed in stops working.' })
  refreshToken(@Ctx() ctx: RequestContext, @Arg('refreshToken', () => String) refreshToken: string): Promise<AuthPayload> {
    refuseService(ctx);
    return this.service.refresh(refreshToken, ctx.clientAddress);
  }

  @Mutation(() => Boolean, { description: "Ends this terminal's session: its refresh token and live connections stop working." })
  logout(@Ctx() ctx: RequestContext): Promise<boolean> {
    return this.service.logout(requireViewer(ctx));
  }

  @Mutation(() => Boolean)
  changePassword(
    @Ctx() ctx: RequestContext,
    @Arg('oldPassword', () => String) oldPassword: string,
    @Arg('newPassword', () => String) newPassword: string,
  ): Promise<boolean> {
    return this.service.changePassword(requireViewer(ctx), oldPassword, newPassword);
  }
}
